package io.streamingllm.bench;

import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventLog;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.log.Visibility;
import jakarta.json.Json;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Stream;

/**
 * Durable append throughput and latency of {@link EventLog} (write-ahead journal: one fdatasync per batch of
 * concurrent appends, whatever their conversations) against the Python sidecar's
 * baseline (open, lock, write, fsync, close for every event), fsync on, with 1, 8 and 64 concurrent writers,
 * to one conversation and spread over 64. Args: [--seconds N] [--dir PATH] [--virtual].
 * {@code --virtual} runs the writers on virtual threads, as the sidecar's turns append (both implementations alike).
 */
public final class LogBench {
    private static final int[] WRITERS = {1, 8, 64};
    private static final int[] CONVERSATIONS = {1, 64};
    private static boolean virtualWriters;
    /** Looked up once, as the sidecar does: {@code Json.createObjectBuilder()} looks the provider up per call. */
    private static final jakarta.json.JsonBuilderFactory JSON = Json.createBuilderFactory(Map.of());

    private LogBench() {
    }

    @FunctionalInterface
    interface Appender {
        void append(Event e) throws IOException;
    }

    record Result(String impl, int writers, int conversations, long ops, double seconds, long p50, long p99) {
        double perSecond() {
            return ops / seconds;
        }
    }

    public static void main(String[] args) throws Exception {
        double seconds = 3;
        Path dir = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--dir" -> dir = Path.of(args[++i]);
                case "--virtual" -> virtualWriters = true;
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + " (--seconds N, --dir PATH, --virtual)");
            }
        }
        Path root = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("logbench");
        System.out.printf("log bench: %s, %.1f s per cell, %d cores, java %s%n", root, seconds,
                Runtime.getRuntime().availableProcessors(), Runtime.version());
        List<Result> results = new ArrayList<>();
        int cell = 0;
        // warm-up (JIT, file system) so the first cell is not penalised
        try (EventLog log = new EventLog(root.resolve("warmup"))) {
            run("warmup", log::append, 8, 8, Math.min(1, seconds));
        }
        for (int conversations : CONVERSATIONS) {
            for (int writers : WRITERS) {
                Path groupDir = root.resolve("group-" + cell);
                try (EventLog log = new EventLog(groupDir)) {
                    results.add(run("EventLog (journal group commit)", log::append, writers, conversations, seconds));
                }
                Path baseDir = root.resolve("baseline-" + cell);
                try (Baseline baseline = new Baseline(baseDir)) {
                    results.add(run("baseline open+lock+write+fsync+close", baseline, writers, conversations, seconds));
                }
                cell++;
            }
        }
        print(results);
        deleteTree(root, dir == null);
    }

    private static Result run(String impl, Appender appender, int writers, int conversations, double seconds)
            throws Exception {
        long[][] latencies = new long[writers][];
        int[] counts = new int[writers];
        CountDownLatch ready = new CountDownLatch(writers);
        CountDownLatch go = new CountDownLatch(1);
        long[] window = new long[2];
        List<Thread> threads = new ArrayList<>();
        String payloadText = "benchmark message ".repeat(12);
        for (int w = 0; w < writers; w++) {
            int writer = w;
            Thread.Builder builder = virtualWriters ? Thread.ofVirtual() : Thread.ofPlatform();
            threads.add(builder.name("writer-" + w).start(() -> {
                long[] lat = new long[1 << 16];
                int n = 0;
                String conversation = "conv-" + (writer % conversations);
                ready.countDown();
                try {
                    go.await();
                    long deadline = window[1];
                    while (true) {
                        Event e = Event.create(conversation, EventType.USER_MESSAGE, Visibility.USER,
                                JSON.createObjectBuilder().add("content", payloadText).add("n", n).build());
                        long t0 = System.nanoTime();
                        if (t0 >= deadline) {
                            break;
                        }
                        appender.append(e);
                        if (n == lat.length) {
                            lat = Arrays.copyOf(lat, n * 2);
                        }
                        lat[n++] = System.nanoTime() - t0;
                    }
                } catch (Exception ex) {
                    throw new IllegalStateException(ex);
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
        int total = Arrays.stream(counts).sum();
        long[] all = new long[total];
        int at = 0;
        for (int w = 0; w < writers; w++) {
            System.arraycopy(latencies[w], 0, all, at, counts[w]);
            at += counts[w];
        }
        Arrays.sort(all);
        return new Result(impl, writers, conversations, total, elapsed, percentile(all, 0.50), percentile(all, 0.99));
    }

    private static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p * sorted.length) - 1)];
    }

    private static void print(List<Result> results) {
        System.out.println();
        System.out.println("| writers | conversations | implementation | appends/s | p50 ms | p99 ms | vs baseline |");
        System.out.println("|---:|---:|---|---:|---:|---:|---:|");
        for (Result r : results) {
            Result base = results.stream().filter(b -> b.impl().startsWith("baseline") && b.writers() == r.writers()
                    && b.conversations() == r.conversations()).findFirst().orElseThrow();
            System.out.printf("| %d | %d | %s | %,.0f | %.2f | %.2f | %s |%n", r.writers(), r.conversations(), r.impl(),
                    r.perSecond(), r.p50() / 1e6, r.p99() / 1e6,
                    r == base ? "1.0×" : String.format("%.1f×", r.perSecond() / base.perSecond()));
        }
    }

    /** The Python sidecar's way: every event opens the file, locks it, writes, fsyncs and closes. */
    static final class Baseline implements Appender, AutoCloseable {
        private final Path dir;
        // FileChannel.lock is per JVM, not per thread: threads queue on an in-process lock first, as
        // Python threads would queue on flock
        private final Map<Path, ReentrantLock> locks = new ConcurrentHashMap<>();

        Baseline(Path dir) throws IOException {
            this.dir = Files.createDirectories(dir);
        }

        @Override
        public void append(Event e) throws IOException {
            Path file = dir.resolve(e.conversationId() + ".jsonl");
            byte[] line = (e.toJson().toString() + "\n").getBytes(StandardCharsets.UTF_8);
            ReentrantLock lock = locks.computeIfAbsent(file, f -> new ReentrantLock());
            lock.lock();
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND); FileLock ignored = ch.lock()) {
                ByteBuffer buf = ByteBuffer.wrap(line);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void close() {
        }
    }

    private static void deleteTree(Path root, boolean delete) throws IOException {
        if (!delete) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
