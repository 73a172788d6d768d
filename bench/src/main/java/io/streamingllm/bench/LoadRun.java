package io.streamingllm.bench;

import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/** The relay benchmarks' load: N sessions of several turns each, one virtual thread per session, and what they saw. */
final class LoadRun {

    record Scenario(int sessions, int delayMs, int turns, int tokensPerReply, boolean staggered, String conversationPrefix) {
        /**
         * When session {@code i} starts: at once in lockstep (every session's turns start and end together, the
         * worst case for time to first token), or spread evenly over one reply's duration when staggered, as
         * independent users arrive.
         */
        long startOffsetNanos(int session) {
            return staggered ? (long) session * delayMs * tokensPerReply * 1_000_000L / sessions : 0;
        }
    }

    record Outcome(long tokens, int errors, double seconds, long[] ttftNanos) {
        /** The {@code q} quantile of time to first token, in ms. */
        double p(double q) {
            if (ttftNanos.length == 0) {
                return Double.NaN;
            }
            long[] s = ttftNanos.clone();
            Arrays.sort(s);
            return s[Math.min(s.length - 1, (int) Math.ceil(q * s.length) - 1)] / 1e6;
        }

        double tokensPerSecond() {
            return tokens / seconds;
        }
    }

    /** What the sessions of one run count, from their threads. */
    static final class Tally {
        final ConcurrentLinkedQueue<Long> ttft = new ConcurrentLinkedQueue<>();
        final AtomicLong tokens = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        private final long start = System.nanoTime();

        Outcome outcome() {
            return new Outcome(tokens.get(), (int) errors.get(), (System.nanoTime() - start) / 1e9,
                    ttft.stream().mapToLong(Long::longValue).toArray());
        }
    }

    interface Session {
        void run(int index) throws Exception;
    }

    /** Runs {@code body} for every session of {@code s}, each on its own virtual thread; returns when all ended. */
    static void runSessions(Scenario s, Session body) throws InterruptedException {
        try (var exec = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < s.sessions(); i++) {
                int index = i;
                exec.submit(() -> {
                    Thread.sleep(Duration.ofNanos(s.startOffsetNanos(index))); // load shaping, not synchronisation
                    body.run(index);
                    return null;
                });
            }
        }
    }

    static int[] ints(String csv) {
        return Arrays.stream(csv.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
    }

    private LoadRun() {
    }
}
