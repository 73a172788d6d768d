package io.streamingllm.bench;

import io.streamingllm.bench.LoadRun.Outcome;
import io.streamingllm.bench.LoadRun.Scenario;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * N concurrent WebSocket sessions, several turns each, through the sidecar (a child process running the
 * built jar) to the fake Ollama upstream; the same load straight to the upstream gives the baseline
 * time-to-first-token. Run by {@code scripts/bench.sh ws [sessions] [delays-ms] [turns] [tokens] [arrivals]}; arrivals
 * {@code lockstep,staggered} measures both on the same warmed-up sidecar, one row each.
 */
public final class WsBench {

    public static void main(String[] args) throws Exception {
        int[] sessions = LoadRun.ints(args.length > 0 ? args[0] : "1,50,200,1000");
        int[] delays = LoadRun.ints(args.length > 1 ? args[1] : "0,20");
        int turns = args.length > 2 ? Integer.parseInt(args[2]) : 10;
        int tokens = args.length > 3 ? Integer.parseInt(args[3]) : 32;
        List<String> arrivals = List.of((args.length > 4 ? args[4] : "lockstep").split(","));
        for (String a : arrivals) {
            if (!a.equals("lockstep") && !a.equals("staggered")) {
                throw new IllegalArgumentException("arrivals must be lockstep, staggered or both comma-separated, not " + a);
            }
        }
        BenchSidecar.requireJar();
        System.out.println("session arrivals: " + String.join(", ", arrivals));
        System.out.println("| arrivals | sessions | ms/token | relayed tok/s | errors | TTFT direct p50/p99 ms | TTFT sidecar p50/p99 ms | added p50/p99 ms | sidecar RSS MiB | CPU s per M tokens | bench CPU s per M tokens |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|---|");
        try (RelayPath path = new OllamaWsPath()) {
            int scenarioCount = 0; // every scenario starts its own conversations
            for (int delay : delays) {
                // one sidecar per upstream speed, warmed up (JIT, pools) before anything is measured
                try (BenchSidecar sidecar = BenchSidecar.start(path.sidecarEnv())) {
                    WarmUp.run(path, sidecar, reply(tokens), delay);
                    for (int n : sessions) {
                        for (String arrival : arrivals) {
                            Scenario s = new Scenario(n, delay, turns, tokens, arrival.equals("staggered"),
                                    "bench-" + (++scenarioCount) + "-");
                            measure(path, sidecar, s, arrival);
                        }
                    }
                }
            }
        }
    }

    /** One scenario straight to the upstream and through the sidecar: a table row, and the CPU split on stderr. */
    private static void measure(RelayPath path, BenchSidecar sidecar, Scenario s, String arrival) throws Exception {
        Outcome direct = path.direct(s);
        long cpuBefore = sidecar.cpuNanos();
        Map<String, Long> threadsBefore = BenchSidecar.cpuByThreadKind(sidecar.process.pid());
        long benchCpuBefore = BenchSidecar.benchCpuNanos();
        Outcome via = path.via(sidecar.port, s);
        long cpu = sidecar.cpuNanos() - cpuBefore;
        Map<String, Long> threadsAfter = BenchSidecar.cpuByThreadKind(sidecar.process.pid());
        long benchCpu = BenchSidecar.benchCpuNanos() - benchCpuBefore;
        System.out.printf("| %s | %d | %d | %.0f | %d | %.2f / %.2f | %.2f / %.2f | %.2f / %.2f | %.0f | %.2f | %.2f |%n",
                arrival, s.sessions(), s.delayMs(), via.tokensPerSecond(), via.errors(), direct.p(0.5), direct.p(0.99),
                via.p(0.5), via.p(0.99), via.p(0.5) - direct.p(0.5), via.p(0.99) - direct.p(0.99),
                sidecar.rssKiB() / 1024.0, perMillionTokens(cpu, via), perMillionTokens(benchCpu, via));
        StringBuilder split = new StringBuilder("  sidecar CPU s per M tokens by thread kind:");
        threadsAfter.forEach((kind, after) -> split.append(String.format(" %s %.2f", kind,
                perMillionTokens(after - threadsBefore.getOrDefault(kind, 0L), via))));
        System.err.println(split);
        System.err.println("  " + worstTurns(via, 10));
    }

    /** Where a run's slowest first tokens were: which turn of its session, and when in the run it was sent. */
    static String worstTurns(Outcome via, int n) {
        StringBuilder b = new StringBuilder("slowest first tokens (session/turn sent-at-ms: ttft-ms):");
        via.turns().stream().sorted(Comparator.comparingLong(LoadRun.TurnTime::ttftNanos).reversed()).limit(n)
                .forEach(t -> b.append(String.format(" %d/%d %.1f: %.1f", t.session(), t.turn(), t.sentNanos() / 1e6,
                        t.ttftNanos() / 1e6)));
        long[] perTurn = new long[via.turns().stream().mapToInt(LoadRun.TurnTime::turn).max().orElse(-1) + 1];
        via.turns().forEach(t -> perTurn[t.turn()] = Math.max(perTurn[t.turn()], t.ttftNanos()));
        b.append("; slowest per turn index, ms:");
        for (long m : perTurn) {
            b.append(String.format(" %.1f", m / 1e6));
        }
        // sent-at is into the run: this lines the turns up with other clocks on System.nanoTime()'s (CLOCK_MONOTONIC)
        b.append("; the run began at System.nanoTime() ").append(via.startNanos());
        return b.toString();
    }

    /** A reply of {@code tokens} tokens, " tok0", " tok1", …. */
    static List<String> reply(int tokens) {
        List<String> reply = new ArrayList<>();
        for (int i = 0; i < tokens; i++) {
            reply.add(" tok" + i);
        }
        return reply;
    }

    static double perMillionTokens(long cpuNanos, Outcome via) {
        return via.tokens() == 0 ? Double.NaN : cpuNanos / 1e9 / (via.tokens() / 1e6);
    }

    private WsBench() {
    }
}
