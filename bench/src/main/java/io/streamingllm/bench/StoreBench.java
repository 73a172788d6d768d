package io.streamingllm.bench;

import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.echo.EchoEngine;
import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.log.Visibility;
import io.streamingllm.core.session.ChatService;
import io.streamingllm.core.session.TurnRequest;
import io.streamingllm.core.store.Store;
import io.streamingllm.store.postgres.PostgresStore;
import jakarta.json.Json;
import jakarta.json.JsonBuilderFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.function.Function;

/**
 * The two stores side by side in one run (issue 17): durable appends/s and latency (p50, p99) with 1, 8 and 64
 * concurrent writers over 64 conversations, and the per-turn overhead of a whole turn (echo engine, 0 ms/token) with
 * the files and with PostgreSQL. PostgreSQL is the one at {@code --server} (default 127.0.0.1:5432, trust
 * authentication, user postgres), in a database made for the run and dropped after it.
 * Args: [--seconds N per cell (3)] [--turns N (300)] [--server host:port] [--user NAME].
 */
public final class StoreBench {
    private static final int[] WRITERS = {1, 8, 64};
    private static final int CONVERSATIONS = 64;
    private static final JsonBuilderFactory JSON = Json.createBuilderFactory(Map.of());

    private StoreBench() {
    }

    record Result(String store, int writers, long ops, double seconds, long p50, long p99) {
    }

    public static void main(String[] args) throws Exception {
        double seconds = 3;
        int turns = 300;
        String server = "127.0.0.1:5432";
        String user = "postgres";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--turns" -> turns = Integer.parseInt(args[++i]);
                case "--server" -> server = args[++i];
                case "--user" -> user = args[++i];
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (--seconds N, --turns N, --server host:port, --user NAME)");
            }
        }
        String db = "sllm_bench_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        String admin = "jdbc:postgresql://" + server + "/postgres";
        try (Connection c = DriverManager.getConnection(admin, user, ""); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + db);
        }
        Path root = Files.createTempDirectory("storebench");
        System.out.printf("store bench: files in %s, PostgreSQL %s/%s, %.1f s per cell, %d cores, java %s%n", root,
                server, db, seconds, Runtime.getRuntime().availableProcessors(), Runtime.version());
        try {
            String url = "postgresql://" + user + "@" + server + "/" + db;
            Function<Path, SidecarConfig> files = dir -> config(dir, null);
            Function<Path, SidecarConfig> pg = dir -> config(dir, url);
            List<Result> results = new ArrayList<>();
            // warm-up of both (JIT, pool, file system)
            try (Store s = Store.files(files.apply(root.resolve("warm-files")))) {
                appends("warmup", s, 8, Math.min(1, seconds));
            }
            try (Store s = PostgresStore.open(pg.apply(root.resolve("warm-pg")))) {
                appends("warmup", s, 8, Math.min(1, seconds));
            }
            for (int writers : WRITERS) {
                try (Store s = Store.files(files.apply(root.resolve("files-" + writers)))) {
                    results.add(appends("files (journal)", s, writers, seconds));
                }
                try (Store s = PostgresStore.open(pg.apply(root.resolve("pg-" + writers)))) {
                    results.add(appends("PostgreSQL", s, writers, seconds));
                }
            }
            System.out.println();
            System.out.println("## Durable appends, " + CONVERSATIONS + " conversations");
            System.out.println();
            System.out.println("| writers | store | appends/s | p50 ms | p99 ms |");
            System.out.println("|---:|---|---:|---:|---:|");
            for (Result r : results) {
                System.out.printf("| %d | %s | %,.0f | %.2f | %.2f |%n", r.writers(), r.store(), r.ops() / r.seconds(),
                        r.p50() / 1e6, r.p99() / 1e6);
            }
            System.out.println();
            System.out.println("## Per turn (echo engine, 0 ms/token, one conversation, " + turns + " turns after "
                    + "warm-up)");
            System.out.println();
            System.out.println("| store | median ms | p90 ms | p99 ms |");
            System.out.println("|---|---:|---:|---:|");
            turns("files (journal)", files.apply(root.resolve("turns-files")), turns);
            turns("PostgreSQL", pg.apply(root.resolve("turns-pg")), turns);
        } finally {
            try (Connection c = DriverManager.getConnection(admin, user, ""); Statement s = c.createStatement()) {
                s.execute("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)");
            }
            LogBenchFiles.deleteTree(root);
        }
    }

    private static SidecarConfig config(Path dir, String url) {
        Map<String, String> env = new HashMap<>();
        env.put(SidecarConfig.MODEL, "echo");
        env.put(SidecarConfig.DATA_DIR, dir.resolve("data").toString());
        env.put(SidecarConfig.AGENTS_DIR, dir.resolve("agents").toString());
        if (url != null) {
            env.put(SidecarConfig.DATABASE_URL, url);
        }
        return SidecarConfig.fromEnv(env);
    }

    private static Result appends(String name, Store store, int writers, double seconds) throws Exception {
        long[][] latencies = new long[writers][];
        int[] counts = new int[writers];
        CountDownLatch ready = new CountDownLatch(writers);
        CountDownLatch go = new CountDownLatch(1);
        long[] window = new long[2];
        String text = "benchmark message ".repeat(12);
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            int writer = w;
            threads.add(Thread.ofPlatform().name("writer-" + w).start(() -> {
                long[] lat = new long[1 << 14];
                int n = 0;
                String conversation = "conv-" + (writer % CONVERSATIONS);
                ready.countDown();
                try {
                    go.await();
                    while (true) {
                        Event e = Event.create(conversation, EventType.USER_MESSAGE, Visibility.USER,
                                JSON.createObjectBuilder().add("content", text).add("n", n).build());
                        long t0 = System.nanoTime();
                        if (t0 >= window[1]) {
                            break;
                        }
                        store.events().append(e);
                        if (n == lat.length) {
                            lat = Arrays.copyOf(lat, n * 2);
                        }
                        lat[n++] = System.nanoTime() - t0;
                    }
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                }
                latencies[writer] = lat;
                counts[writer] = n;
            }));
        }
        ready.await();
        window[0] = System.nanoTime();
        window[1] = window[0] + (long) (seconds * 1e9);
        go.countDown();
        for (Thread t : threads) {
            t.join();
        }
        double elapsed = (System.nanoTime() - window[0]) / 1e9;
        long[] all = new long[Arrays.stream(counts).sum()];
        int at = 0;
        for (int w = 0; w < writers; w++) {
            System.arraycopy(latencies[w], 0, all, at, counts[w]);
            at += counts[w];
        }
        Arrays.sort(all);
        return new Result(name, writers, all.length, elapsed, percentile(all, 0.50), percentile(all, 0.99));
    }

    private static void turns(String name, SidecarConfig cfg, int turns) {
        Store store = cfg.database().isPresent() ? PostgresStore.open(cfg) : Store.files(cfg);
        try (store; ChatService chat = new ChatService(cfg, new EchoEngine(0), store)) {
            for (int w = 0; w < 10; w++) {
                for (int i = 0; i < 50; i++) {
                    chat.startTurn(new TurnRequest("warmup-" + w, "planner", "warm up turn " + i, null), d -> { })
                            .result().join();
                }
            }
            long[] nanos = new long[turns];
            for (int i = 0; i < turns; i++) {
                long t0 = System.nanoTime();
                chat.startTurn(new TurnRequest("bench", "planner", "turn " + i + " of the benchmark conversation, a"
                        + " dozen words long", null), d -> { }).result().join();
                nanos[i] = System.nanoTime() - t0;
            }
            Arrays.sort(nanos);
            System.out.printf("| %s | %.2f | %.2f | %.2f |%n", name, percentile(nanos, 0.5) / 1e6,
                    percentile(nanos, 0.9) / 1e6, percentile(nanos, 0.99) / 1e6);
        }
    }

    private static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
    }

    /** Deletes the run's files. */
    private static final class LogBenchFiles {
        static void deleteTree(Path root) throws java.io.IOException {
            try (var paths = Files.walk(root)) {
                for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
