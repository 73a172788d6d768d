package io.streamingllm.bench;

import io.streamingllm.core.agent.AgentStore;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.echo.EchoEngine;
import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventLog;
import io.streamingllm.core.recall.RecallIndex;
import io.streamingllm.core.session.ChatService;
import io.streamingllm.core.session.ConversationIndex;
import io.streamingllm.core.session.TurnRequest;
import io.streamingllm.core.summary.SummaryStore;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Issue 18, point 4: the cost of a turn with recall on stays bounded by the window, not the conversation's length.
 * One conversation of {@code turns} turns (40-word messages drawn from a 3,000-word vocabulary, so every new message
 * matches hundreds of earlier ones) through the real ChatService with the Lucene index, echo engine at 0 ms/token;
 * median and p90 wall time of a turn (log fsyncs, window, summary, index update, recall search) over turns 1–10,
 * 991–1,000 and 9,991–10,000, and of the recall search alone; then the same with recall off. Run by
 * {@code scripts/bench.sh recall [turns, 10000] [recent size, default] [recall size, default]}. With the default
 * window (2,048 tokens, about 18 of these turns) turns 1–10 evict nothing, so they recall nothing and the ratio is
 * the price of recall itself; a window of 512 tokens (about 4 turns) evicts and recalls from turn 6 on, so turn 10
 * and turn 10,000 do the same work over 5 and 9,995 evicted turns: the ratio is the growth with the history.
 */
public final class RecallBench {
    private static final int WORDS_PER_MESSAGE = 40;
    private static final int VOCABULARY = 3_000;

    public static void main(String[] args) throws Exception {
        int turns = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        Map<String, String> window = new HashMap<>();
        if (args.length > 1) {
            window.put(SidecarConfig.RECENT_SIZE, args[1]);
        }
        if (args.length > 2) {
            window.put(SidecarConfig.RECALL_SIZE, args[2]);
        }
        Path dir = Files.createTempDirectory("recall-bench");
        try {
            System.out.println("## Per-turn cost with recall (echo engine, 0 ms/token, " + WORDS_PER_MESSAGE
                    + "-word messages, fsync on" + (window.isEmpty() ? "" : ", " + window) + ")");
            System.out.println();
            System.out.println("| recall | turns | median µs | p90 µs | median vs turns 1–10 | recall search median µs |");
            System.out.println("|---|---|---|---|---|---|");
            run(dir.resolve("on"), turns, window);
            Map<String, String> off = new HashMap<>(window);
            off.put(SidecarConfig.RECALL_SIZE, "0");
            run(dir.resolve("off"), turns, off);
        } finally {
            try (var walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static String message(Random rnd, int i) {
        StringBuilder sb = new StringBuilder("turn ").append(i);
        for (int w = 2; w < WORDS_PER_MESSAGE; w++) {
            sb.append(" w").append(rnd.nextInt(VOCABULARY));
        }
        return sb.toString();
    }

    private static void run(Path dir, int turns, Map<String, String> settings) throws Exception {
        Map<String, String> env = new HashMap<>(settings);
        env.put(SidecarConfig.MODEL, "echo");
        env.put(SidecarConfig.DATA_DIR, dir.toString());
        env.put(SidecarConfig.AGENTS_DIR, dir.resolve("agents").toString());
        SidecarConfig cfg = SidecarConfig.fromEnv(env);
        Random rnd = new Random(42);
        try (EventLog log = new EventLog(cfg.logDir());
             RecallIndex index = new RecallIndex(cfg.indexDir())) {
            Timed timed = new Timed(index);
            try (ChatService chat = new ChatService(cfg, new EchoEngine(0), new AgentStore(cfg.agentsDir()), log,
                    new SummaryStore(cfg.summaryDir()), ChatService.DEFAULT_MAX_RESIDENT, timed)) {
                // warm up (class loading, JIT) on other conversations, long enough that they evict and recall
                for (int w = 0; w < 10; w++) {
                    for (int i = 1; i <= 150; i++) {
                        chat.startTurn(new TurnRequest("warmup-" + w, "planner", message(rnd, i), null), d -> { })
                                .result().join();
                    }
                }
                long[] nanos = new long[turns + 1];
                long[] searchNanos = new long[turns + 1];
                for (int i = 1; i <= turns; i++) {
                    timed.last = 0;
                    long t0 = System.nanoTime();
                    chat.startTurn(new TurnRequest("bench", "planner", message(rnd, i), null), d -> { }).result().join();
                    nanos[i] = System.nanoTime() - t0;
                    searchNanos[i] = timed.last;
                }
                double base = 0;
                for (int mark : new int[] {10, 1_000, 10_000}) {
                    if (mark > turns) {
                        continue;
                    }
                    int from = Math.max(1, mark - 9);
                    long[] w = Arrays.copyOfRange(nanos, from, mark + 1);
                    long[] s = Arrays.copyOfRange(searchNanos, from, mark + 1);
                    Arrays.sort(w);
                    Arrays.sort(s);
                    double median = w[w.length / 2] / 1000.0;
                    double p90 = w[(int) (w.length * 0.9)] / 1000.0;
                    base = base == 0 ? median : base;
                    System.out.printf(Locale.ROOT, "| %s | %,d–%,d | %.0f | %.0f | %.2f× | %.0f |%n",
                            cfg.recallEnabled() ? "on (" + cfg.recallSize() + ")" : "off", from, mark, median, p90,
                            median / base, s[s.length / 2] / 1000.0);
                }
                System.err.println("window at the end (recall " + (cfg.recallEnabled() ? "on" : "off") + "): "
                        + chat.conversation("bench").orElseThrow().window());
            }
        }
    }

    /** The index, timing the recall searches a turn makes. */
    private static final class Timed implements ConversationIndex {
        private final ConversationIndex delegate;
        volatile long last;

        Timed(ConversationIndex delegate) {
            this.delegate = delegate;
        }

        @Override
        public void appended(List<Event> events) {
            delegate.appended(events);
        }

        @Override
        public void removed(String conversationId) {
            delegate.removed(conversationId);
        }

        @Override
        public List<IndexedTurn> relevantTurns(String conversationId, String text, int beforeTurn, int max) {
            long t0 = System.nanoTime();
            try {
                return delegate.relevantTurns(conversationId, text, beforeTurn, max);
            } finally {
                last += System.nanoTime() - t0;
            }
        }

        @Override
        public List<IndexedTurn> turns(String conversationId, int fromTurn, int toTurn) {
            return delegate.turns(conversationId, fromTurn, toTurn);
        }
    }

    private RecallBench() {
    }
}
