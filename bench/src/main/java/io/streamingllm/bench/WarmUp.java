package io.streamingllm.bench;

import io.streamingllm.bench.LoadRun.Scenario;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Warms the sidecar and the bench JVM up until their JIT compilers have settled: C2 keeps compiling the relay's
 * paths for about a million tokens on this machine, and measuring before then measures the compiler. Rounds of 200
 * sessions at full speed first (quick to run) until compiler threads take under 5% of a round's CPU, then, for a
 * paced upstream, shorter rounds at that pace, whose timer and wake-up paths full speed never takes, until under 1%.
 * Leaves the fake upstream answering {@code reply} at {@code delayMs}.
 */
final class WarmUp {

    /**
     * Enough for C2 to finish with the relay, the journal and Lucene's indexing at full speed (2-3 minutes on two
     * cores): capped at 40, the last round still had the compiler at 25-32% of the CPU and the first measured cell
     * measured it (perf: C2 at 40% of the sidecar's samples in the 1-session cell).
     */
    private static final int MAX_FULL_SPEED_ROUNDS = 150;

    static void run(RelayPath path, BenchSidecar sidecar, List<String> reply, int delayMs) throws Exception {
        path.reply(reply, 0);
        phase(path, sidecar, new Scenario(200, 0, 10, reply.size(), false, "warmup-"), 3, MAX_FULL_SPEED_ROUNDS, 0.05);
        path.reply(reply, delayMs);
        if (delayMs > 0) {
            phase(path, sidecar, new Scenario(200, delayMs, 4, reply.size(), true, "warmup-paced-"), 4, 24, 0.01);
        }
    }

    private static void phase(RelayPath path, BenchSidecar sidecar, Scenario round, int minRounds, int maxRounds,
                              double settledShare) throws Exception {
        long started = System.nanoTime();
        double share = 1;
        int rounds = 0;
        while (rounds < maxRounds && (rounds < minRounds || share >= settledShare)) {
            // every other round starts new conversations, as each measured run does (the first turn creates their
            // files and state); the others continue the same ones, so long conversations' paths (eviction,
            // summaries) are warm too. Warming only the latter left the measured first turn to the JIT.
            // Paced rounds alternate lockstep and staggered arrivals too: a burst of 200 turn starts takes contended
            // paths (full queues, inflated locks, big journal batches) that spread arrivals never compile.
            boolean staggered = round.delayMs() > 0 ? rounds % 4 >= 2 : round.staggered();
            Scenario r = new Scenario(round.sessions(), round.delayMs(), round.turns(), round.tokensPerReply(),
                    staggered, rounds % 2 == 0 ? round.conversationPrefix() : round.conversationPrefix() + rounds + "-");
            share = jitShare(List.of(sidecar), () -> {
                path.direct(r);
                path.via(sidecar.port, r);
                return null;
            });
            rounds++;
        }
        System.err.printf("  %s warm-up: %d rounds of %d sessions x %d turns at %d ms/token in %.0f s; JIT share of CPU in the last: %.1f%%%n",
                path.name(), rounds, round.sessions(), round.turns(), round.delayMs(), (System.nanoTime() - started) / 1e9,
                share * 100);
    }

    /** Runs {@code work}; returns the JIT compilers' share of the CPU it took in the sidecars and in this JVM. */
    static double jitShare(List<BenchSidecar> sidecars, Callable<?> work) throws Exception {
        Map<String, Long> before = cpuByKind(sidecars);
        work.call();
        Map<String, Long> after = cpuByKind(sidecars);
        long total = 0;
        long jit = 0;
        for (var e : after.entrySet()) {
            long d = e.getValue() - before.getOrDefault(e.getKey(), 0L);
            total += d;
            if (e.getKey().equals("jit")) {
                jit += d;
            }
        }
        return total == 0 ? 1 : (double) jit / total;
    }

    private static Map<String, Long> cpuByKind(List<BenchSidecar> sidecars) throws Exception {
        Map<String, Long> kinds = BenchSidecar.cpuByThreadKind(ProcessHandle.current().pid());
        for (BenchSidecar sidecar : sidecars) {
            BenchSidecar.cpuByThreadKind(sidecar.process.pid()).forEach((k, v) -> kinds.merge(k, v, Long::sum));
        }
        return kinds;
    }

    private WarmUp() {
    }
}
