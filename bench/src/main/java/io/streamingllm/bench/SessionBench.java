package io.streamingllm.bench;

import io.streamingllm.core.agent.AgentStore;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.echo.EchoEngine;
import io.streamingllm.core.log.EventLog;
import io.streamingllm.core.session.ChatService;
import io.streamingllm.core.session.TurnRequest;
import io.streamingllm.core.summary.SummaryStore;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * Session overhead: the cost of a turn minus the engine (echo, zero delay) at turns 10, 1,000 and
 * 10,000 of one conversation, and the heap each resident conversation holds with a full 2,048-token
 * window. Run by {@code scripts/bench.sh session}.
 */
public final class SessionBench {
    private static final int WORDS_PER_MESSAGE = 40;

    public static void main(String[] args) throws Exception {
        int turns = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
        int conversations = args.length > 1 ? Integer.parseInt(args[1]) : 400;
        Path dir = Files.createTempDirectory("session-bench");
        try {
            perTurnOverhead(dir.resolve("turns"), turns);
            heapPerConversation(dir.resolve("heap"), conversations);
        } finally {
            try (var walk = Files.walk(dir)) {
                walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static SidecarConfig config(Path dir) {
        return SidecarConfig.fromEnv(Map.of(SidecarConfig.MODEL, "echo",
                SidecarConfig.DATA_DIR, dir.toString(), SidecarConfig.AGENTS_DIR, dir.resolve("agents").toString()));
    }

    private static String message(int i) {
        StringBuilder sb = new StringBuilder("turn ").append(i);
        for (int w = 2; w < WORDS_PER_MESSAGE; w++) {
            sb.append(' ').append("word").append((i * 31 + w) % 97);
        }
        return sb.toString();
    }

    private static void perTurnOverhead(Path dir, int turns) throws Exception {
        SidecarConfig cfg = config(dir);
        try (EventLog log = new EventLog(cfg.logDir());
             ChatService chat = new ChatService(cfg, new EchoEngine(0), new AgentStore(cfg.agentsDir()), log,
                     new SummaryStore(cfg.summaryDir()))) {
            // warm up (class loading, JIT) on other conversations, so turn 10 is not measured cold
            for (int w = 0; w < 20; w++) {
                for (int i = 1; i <= 100; i++) {
                    chat.startTurn(new TurnRequest("warmup-" + w, "planner", message(i), null), d -> { }).result().join();
                }
            }
            long[] nanos = new long[turns + 1];
            for (int i = 1; i <= turns; i++) {
                long t0 = System.nanoTime();
                chat.startTurn(new TurnRequest("bench", "planner", message(i), null), d -> { }).result().join();
                nanos[i] = System.nanoTime() - t0;
            }
            System.out.println("## Per-turn overhead (echo engine, 0 ms/token, " + WORDS_PER_MESSAGE
                    + "-word messages, RECENT_SIZE=" + cfg.recentSize() + ", fsync on)");
            System.out.println();
            System.out.println("| turns | median µs | p90 µs | median vs turns 1–10 |");
            System.out.println("|---|---|---|---|");
            double base = 0;
            for (int mark : new int[] {10, 1_000, 10_000}) {
                if (mark > turns) {
                    continue;
                }
                int from = Math.max(1, mark - 9);
                long[] w = Arrays.copyOfRange(nanos, from, mark + 1);
                Arrays.sort(w);
                double median = w[w.length / 2] / 1000.0;
                double p90 = w[(int) (w.length * 0.9)] / 1000.0;
                if (base == 0) {
                    base = median;
                }
                System.out.printf("| %d–%d | %.0f | %.0f | %.2f× |%n", from, mark, median, p90, median / base);
            }
            System.out.println();
            System.out.println("window at the end: " + chat.conversation("bench").orElseThrow().window());
            System.out.println();
        }
    }

    private static void heapPerConversation(Path dir, int conversations) throws Exception {
        SidecarConfig cfg = config(dir);
        int turnsToFill = cfg.recentSize() / (2 * WORDS_PER_MESSAGE) + 4;
        try (EventLog log = new EventLog(cfg.logDir());
             ChatService chat = new ChatService(cfg, new EchoEngine(0), new AgentStore(cfg.agentsDir()), log,
                     new SummaryStore(cfg.summaryDir()), conversations * 2)) {
            // warm up class loading and JIT so they don't count as conversation heap
            for (int i = 0; i < turnsToFill; i++) {
                chat.startTurn(new TurnRequest("warmup", "planner", message(i), null), d -> { }).result().join();
            }
            long before = usedHeapAfterGc();
            for (int c = 0; c < conversations; c++) {
                for (int i = 0; i < turnsToFill; i++) {
                    chat.startTurn(new TurnRequest("conv-" + c, "planner", message(c * 1000 + i), null), d -> { })
                            .result().join();
                }
            }
            long after = usedHeapAfterGc();
            var w = chat.conversation("conv-0").orElseThrow().window();
            System.out.println("## Heap per resident conversation (full window)");
            System.out.println();
            System.out.printf("%d conversations, each %d turns, window %s: %.1f KiB per conversation (target ≤ 64 KiB)%n",
                    conversations, turnsToFill, w, (after - before) / 1024.0 / conversations);
            System.out.println("resident conversations: " + chat.residentConversations());
        }
    }

    private static long usedHeapAfterGc() {
        var mem = ManagementFactory.getMemoryMXBean();
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return mem.getHeapMemoryUsage().getUsed();
    }

    private SessionBench() {
    }
}
