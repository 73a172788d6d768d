package io.streamingllm.bench;

import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.Phaser;
import java.util.concurrent.atomic.AtomicLong;

/** The relay benchmarks' load: N sessions of several turns each, one virtual thread per session, and what they saw. */
final class LoadRun {

    record Scenario(int sessions, int delayMs, int turns, int tokensPerReply, boolean staggered, String conversationPrefix) {
        /**
         * When session {@code i} starts: at once in lockstep (every session's turns start together, see
         * {@link TurnGate}: the worst case for time to first token), or spread evenly over one reply's duration when
         * staggered, as independent users arrive.
         */
        long startOffsetNanos(int session) {
            return staggered ? (long) session * delayMs * tokensPerReply * 1_000_000L / sessions : 0;
        }
    }

    /** One turn's time to first token, with which turn of its session it was and when it was sent (ns into the run). */
    record TurnTime(int session, int turn, long sentNanos, long ttftNanos) {
    }

    /**
     * One run's counts. {@code startNanos} is its {@code System.nanoTime()} at the start, the clock of the turns'
     * {@code sentNanos} and of {@code -Xlog}'s {@code timenanos} (of the first run, for runs taken as one).
     */
    record Outcome(long tokens, int errors, double seconds, long[] ttftNanos, List<TurnTime> turns, long startNanos) {
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

        /** Runs made one after the other, as one: their tokens over their summed durations, all their turns. */
        static Outcome of(List<Outcome> runs) {
            if (runs.size() == 1) {
                return runs.get(0);
            }
            return new Outcome(runs.stream().mapToLong(Outcome::tokens).sum(), runs.stream().mapToInt(Outcome::errors).sum(),
                    runs.stream().mapToDouble(Outcome::seconds).sum(),
                    runs.stream().flatMapToLong(o -> Arrays.stream(o.ttftNanos())).toArray(),
                    runs.stream().flatMap(o -> o.turns().stream()).toList(), runs.get(0).startNanos());
        }
    }

    /** What the sessions of one run count, from their threads. */
    static final class Tally {
        final ConcurrentLinkedQueue<Long> ttft = new ConcurrentLinkedQueue<>();
        final ConcurrentLinkedQueue<TurnTime> turns = new ConcurrentLinkedQueue<>();
        final AtomicLong tokens = new AtomicLong();
        final AtomicLong errors = new AtomicLong();
        private final long start = System.nanoTime();

        /** Records one turn's time to first token; {@code sentNanos} is its {@code System.nanoTime()} at sending. */
        void turn(int session, int turn, long sentNanos, long ttftNanos) {
            ttft.add(ttftNanos);
            turns.add(new TurnTime(session, turn, sentNanos - start, ttftNanos));
        }

        Outcome outcome() {
            return new Outcome(tokens.get(), (int) errors.get(), (System.nanoTime() - start) / 1e9,
                    ttft.stream().mapToLong(Long::longValue).toArray(), List.copyOf(turns), start);
        }
    }

    interface Session {
        /** Runs session {@code index}; each turn calls {@code gate.beforeTurn()} just before it starts. */
        void run(int index, TurnGate gate) throws Exception;
    }

    /**
     * In lockstep, a session's turn waits until every session still running is ready for its next turn, so that each
     * turn starts as one burst (connecting comes before the first turn's burst, and a slow reply cannot spread the
     * later bursts out); staggered sessions pass at once. Load shaping, not a test's synchronisation.
     */
    static final class TurnGate {
        private final Phaser phaser;

        TurnGate(Phaser phaser) {
            this.phaser = phaser;
        }

        void beforeTurn() {
            if (phaser != null) {
                phaser.arriveAndAwaitAdvance();
            }
        }

        void leave() {
            if (phaser != null) {
                phaser.arriveAndDeregister();
            }
        }
    }

    /** Runs {@code body} for every session of {@code s}, each on its own virtual thread; returns when all ended. */
    static void runSessions(Scenario s, Session body) throws InterruptedException {
        TurnGate gate = new TurnGate(s.staggered() || s.sessions() < 2 ? null : new Phaser(s.sessions()));
        try (var exec = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < s.sessions(); i++) {
                int index = i;
                exec.submit(() -> {
                    try {
                        Thread.sleep(Duration.ofNanos(s.startOffsetNanos(index))); // load shaping, not synchronisation
                        body.run(index, gate);
                    } finally {
                        gate.leave();
                    }
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
