package io.streamingllm.bench;

import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventLog;
import io.streamingllm.core.log.EventPage;
import io.streamingllm.core.log.EventQuery;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.log.Visibility;
import com.sun.management.ThreadMXBean;
import jakarta.json.Json;
import jakarta.json.JsonObject;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Event-log queries over a large log directory (default 800 MB, as in the report that three {@code /events} calls
 * ran a server out of heap): the time and the bytes allocated per query, for the pages the routes serve. Run it
 * with a small heap ({@code BENCH_JAVA_OPTS=-Xmx64m}) to see that memory does not grow with the logs.
 * Args: [--mb N] [--conversations N] [--runs N] [--dir PATH] (an existing directory of this bench is reused).
 */
public final class QueryBench {
    /** Every fourth event goes to one long conversation, to page through. */
    private static final String LONG = "long";

    private QueryBench() {
    }

    public static void main(String[] args) throws Exception {
        int mb = 800;
        int conversations = 200;
        int runs = 5;
        Path dir = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--mb" -> mb = Integer.parseInt(args[++i]);
                case "--conversations" -> conversations = Integer.parseInt(args[++i]);
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--dir" -> dir = Path.of(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]
                        + " (--mb N, --conversations N, --runs N, --dir PATH)");
            }
        }
        Path root = dir != null ? Files.createDirectories(dir) : Files.createTempDirectory("querybench");
        Path logs = root.resolve("logs");
        Path marker = root.resolve(".querybench-" + mb + "-" + conversations);
        long start = System.nanoTime();
        boolean reused = Files.exists(marker);
        Generated g = reused ? Generated.read(marker) : generate(logs, mb, conversations, marker);
        System.out.printf("query bench: %s, %d MB in %d conversations (%,d events), %s; max heap %d MB, java %s%n",
                logs, mb, conversations + 1, g.events(), reused ? "reused"
                        : String.format("generated in %.0f s", (System.nanoTime() - start) / 1e9),
                Runtime.getRuntime().maxMemory() >> 20, Runtime.version());

        try (EventLog log = new EventLog(logs)) {
            Map<String, Supplier<EventPage>> queries = new LinkedHashMap<>();
            queries.put("/events?since=<last minute>&limit=1", () -> log.query(EventQuery.latest(1)
                    .withSince(g.last().minusSeconds(60))));
            queries.put("/events?since=<first event>&limit=1", () -> log.query(EventQuery.latest(1)
                    .withSince(g.first())));
            queries.put("/events?limit=100 (newest)", () -> log.query(EventQuery.latest(100)));
            queries.put("/events?type=error&limit=10 (rare type: every file read)", () -> log.query(
                    EventQuery.latest(10).withTypes(Set.of(EventType.ERROR))));
            queries.put("/events?since=<first event>&limit=10000", () -> log.query(EventQuery.latest(10_000)
                    .withSince(g.first())));
            queries.put("/conversations/long/events?limit=10000", () -> log.query(LONG, EventQuery.latest(10_000)));
            queries.put("/conversations/long/events?after=<middle>&limit=1000", () -> log.query(LONG,
                    EventQuery.latest(1000).withAfter(g.middleOfLong())));
            queries.put("/conversations/long/events?before=<middle>&limit=1000", () -> log.query(LONG,
                    EventQuery.latest(1000).withBefore(g.middleOfLong())));
            System.out.printf("%-62s %10s %10s %14s%n", "query", "events", "ms (p50)", "MB allocated");
            for (Map.Entry<String, Supplier<EventPage>> q : queries.entrySet()) {
                measure(q.getKey(), q.getValue(), runs);
            }
            pageThroughLong(log, g);
        }
        if (dir == null) {
            deleteTree(root);
        }
    }

    private static void measure(String name, Supplier<EventPage> query, int runs) {
        query.get(); // warm-up
        long[] nanos = new long[runs];
        long allocated = 0;
        int events = 0;
        for (int r = 0; r < runs; r++) {
            long a0 = allocatedBytes();
            long t0 = System.nanoTime();
            EventPage page = query.get();
            nanos[r] = System.nanoTime() - t0;
            allocated += allocatedBytes() - a0;
            events = page.events().size();
        }
        Arrays.sort(nanos);
        System.out.printf("%-62s %10d %10.1f %14.1f%n", name, events, nanos[runs / 2] / 1e6,
                allocated / (double) runs / (1 << 20));
    }

    /** Every event of the long conversation, 10,000 at a time from the newest back, as a client pages. */
    private static void pageThroughLong(EventLog log, Generated g) {
        long t0 = System.nanoTime();
        EventQuery q = EventQuery.latest(10_000);
        int pages = 0;
        long events = 0;
        while (true) {
            EventPage p = log.query(LONG, q);
            pages++;
            events += p.events().size();
            if (!p.hasMore()) {
                break;
            }
            q = q.withBefore(p.events().get(0).id());
        }
        System.out.printf("paging back through /conversations/long/events: %,d events in %d pages, %.0f ms (%.1f ms a page)%n",
                events, pages, (System.nanoTime() - t0) / 1e6, (System.nanoTime() - t0) / 1e6 / pages);
        if (events != g.longEvents()) {
            throw new IllegalStateException("paged " + events + " events, wrote " + g.longEvents());
        }
    }

    private static long allocatedBytes() {
        return ((ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }

    /** What was generated: the time span, and where to page from. */
    record Generated(long events, Instant first, Instant last, String middleOfLong, long longEvents) {
        static Generated read(Path marker) throws IOException {
            String[] f = Files.readString(marker).strip().split(" ");
            return new Generated(Long.parseLong(f[0]), Instant.parse(f[1]), Instant.parse(f[2]), f[3], Long.parseLong(f[4]));
        }

        void write(Path marker) throws IOException {
            Files.writeString(marker, events + " " + first + " " + last + " " + middleOfLong + " " + longEvents + "\n");
        }
    }

    /**
     * Writes about {@code mb} MB of events through the log itself, one every 10 ms of simulated time ending now
     * (ids are UUIDv7 of that time, as the log makes them), then dates each file to its last event.
     */
    private static Generated generate(Path logs, int mb, int conversations, Path marker) throws IOException {
        JsonObject payload = Json.createObjectBuilder().add("content", "benchmark words ".repeat(20)).build();
        long perEvent = 420; // bytes a line takes with this payload
        long total = (long) mb * 1_000_000 / perEvent;
        Instant first = Instant.now().minusMillis(total * 10);
        Map<String, List<Event>> batches = new HashMap<>();
        Map<String, Instant> lastOf = new HashMap<>();
        List<String> longIds = new ArrayList<>();
        try (EventLog log = new EventLog(logs)) {
            for (long i = 0; i < total; i++) {
                Instant t = first.plusMillis(i * 10);
                String conv = i % 4 == 0 ? LONG : "c" + (i % conversations);
                EventType type = i % 100_000 == 54_321 ? EventType.ERROR : i % 2 == 0 ? EventType.USER_MESSAGE
                        : EventType.ASSISTANT_MESSAGE;
                String id = new UUID((t.toEpochMilli() << 16) | 0x7000L | (i & 0xFFF), 0x8000000000000000L | i).toString();
                List<Event> batch = batches.computeIfAbsent(conv, c -> new ArrayList<>());
                batch.add(new Event(id, conv, type, t, Visibility.USER, payload));
                if (conv.equals(LONG)) {
                    longIds.add(id);
                }
                lastOf.put(conv, t);
                if (batch.size() == 2000) {
                    log.appendAll(batch);
                    batch.clear();
                }
            }
            for (List<Event> batch : batches.values()) {
                if (!batch.isEmpty()) {
                    log.appendAll(batch);
                }
            }
        }
        for (Map.Entry<String, Instant> e : lastOf.entrySet()) {
            Files.setLastModifiedTime(logs.resolve(e.getKey() + ".jsonl"), FileTime.from(e.getValue()));
        }
        Generated g = new Generated(total, first, first.plusMillis((total - 1) * 10), longIds.get(longIds.size() / 2),
                longIds.size());
        g.write(marker);
        return g;
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
