package io.streamingllm.core.log;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

/**
 * A child JVM with a small heap that queries logs much larger than its heap and prints what it found, one result a
 * line ({@code name id id ...}), for {@link QueryMemoryTest}.
 */
public final class QueryProbe {
    private QueryProbe() {
    }

    public static void main(String[] args) throws Exception {
        Path logs = Path.of(args[0]);
        Instant late = Instant.parse(args[1]);
        String conversation = args[2];
        String cursor = args[3];
        try (EventLog log = new EventLog(logs)) {
            try (Stream<Event> s = log.since(Instant.EPOCH)) {
                print("first", s.limit(1).toList());
            }
            print("since-late", log.query(EventQuery.latest(1).withSince(late)).events());
            print("errors", log.query(EventQuery.latest(10).withTypes(Set.of(EventType.ERROR))).events());
            print("newest", log.query(EventQuery.latest(3)).events());
            print("before", log.query(conversation, EventQuery.latest(2).withBefore(cursor)).events());
            print("after", log.query(conversation, EventQuery.latest(2).withAfter(cursor)).events());
            // three at once, as the three calls that once ran the server out of heap
            List<CompletableFuture<List<Event>>> calls = List.of(1, 2, 3).stream()
                    .map(i -> CompletableFuture.supplyAsync(() -> log.query(EventQuery.latest(1000)
                            .withSince(Instant.EPOCH)).events()))
                    .toList();
            for (CompletableFuture<List<Event>> call : calls) {
                List<Event> page = call.join();
                print("concurrent", List.of(page.get(0), page.get(page.size() - 1)));
            }
        }
    }

    private static void print(String name, List<Event> events) {
        StringBuilder sb = new StringBuilder(name);
        events.forEach(e -> sb.append(' ').append(e.id()));
        System.out.println(sb);
    }
}
