package io.streamingllm.store.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamingllm.core.InvalidIdException;
import io.streamingllm.core.agent.Agent;
import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventPage;
import io.streamingllm.core.log.EventQuery;
import io.streamingllm.core.log.EventStore;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.log.Visibility;
import io.streamingllm.core.store.Store;
import io.streamingllm.core.summary.Summary;
import jakarta.json.Json;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What every store does, whatever keeps it (files, PostgreSQL): events read back as appended, in order, from every
 * query; concurrent appends all durable; pages, filters and cursors as the event routes use them; archive; summaries
 * and agents. Each implementation's test class gives a fresh, empty store per test.
 */
abstract class StoreContract {
    @TempDir
    Path dir;
    Store store;
    EventStore log;

    /** A fresh, empty store whose agents directory is {@code agentsDir}. */
    abstract Store open(Path dir, Path agentsDir) throws Exception;

    @BeforeEach
    void openStore() throws Exception {
        store = open(dir, dir.resolve("agents"));
        log = store.events();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    static Event event(String conversation, EventType type, Visibility v, String content) {
        return Event.create(conversation, type, v, Json.createObjectBuilder().add("content", content).build());
    }

    static Event user(String conversation, String content) {
        return event(conversation, EventType.USER_MESSAGE, Visibility.USER, content);
    }

    @Test
    void eventsReadBackAsAppendedInOrder() {
        List<Event> a = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            a.add(log.append(user("conv-a", "a" + i)));
            if (i % 5 == 0) {
                a.addAll(log.appendAll(List.of(event("conv-a", EventType.ASSISTANT_MESSAGE, Visibility.USER, "r" + i),
                        event("conv-a", EventType.SUMMARY_REFRESH, Visibility.INTERNAL, "s" + i))));
            }
        }
        log.append(user("conv-b", "b0"));
        try (Stream<Event> read = log.read("conv-a")) {
            assertEquals(a, read.toList());
        }
        assertEquals(a.subList(a.size() - 4, a.size()), log.tail("conv-a", 4));
        assertEquals(a, log.tail("conv-a", 1000));
        assertEquals(List.of(), log.tail("conv-a", 0));
        assertEquals(List.of("conv-a", "conv-b"), log.conversationIds());
        assertTrue(log.exists("conv-a"));
        assertFalse(log.exists("conv-c"));
        try (Stream<Event> read = log.read("conv-c")) {
            assertEquals(List.of(), read.toList());
        }
        assertEquals(Optional.of(a.getLast().id()), log.lastEventId("conv-a"));
        assertEquals(Optional.empty(), log.lastEventId("conv-c"));
    }

    @Test
    void aConversationLongerThanAStreamPageReadsWhole() {
        List<Event> all = new ArrayList<>();
        for (int i = 0; i < PgEventStore.STREAM_PAGE * 2 + 7; i += 50) {
            List<Event> batch = new ArrayList<>();
            for (int j = 0; j < 50; j++) {
                batch.add(user("long", "m" + (i + j)));
            }
            all.addAll(log.appendAll(batch));
        }
        try (Stream<Event> read = log.read("long")) {
            assertEquals(all, read.toList());
        }
        try (Stream<Event> since = log.since(Instant.EPOCH)) {
            assertEquals(all, since.toList());
        }
    }

    @Test
    void concurrentAppendsAreAllDurableAndEachConversationKeepsItsOrder() throws Exception {
        int writers = 16;
        int each = 40;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            List<Future<List<Event>>> done = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                String conversation = "conc-" + w;
                done.add(pool.submit((Callable<List<Event>>) () -> {
                    List<Event> acked = new ArrayList<>();
                    for (int i = 0; i < each; i++) {
                        acked.add(log.append(user(conversation, "m" + i)));
                    }
                    return acked;
                }));
            }
            for (int w = 0; w < writers; w++) {
                List<Event> acked = done.get(w).get();
                try (Stream<Event> read = log.read("conc-" + w)) {
                    assertEquals(acked, read.toList());
                }
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(writers, log.conversationIds().size());
    }

    @Test
    void pagesFollowTheCursorBothWaysWithFilters() {
        List<Event> all = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            String conversation = "page-" + (i % 3);
            all.add(log.append(user(conversation, "u" + i)));
            all.add(log.append(event(conversation, EventType.SUMMARY_REFRESH, Visibility.INTERNAL, "s" + i)));
        }
        List<Event> byId = new ArrayList<>(all);
        byId.sort((x, y) -> x.id().compareTo(y.id()));

        // forwards from the start, 7 at a time: every event once, in id order
        List<Event> forward = new ArrayList<>();
        EventQuery q = new EventQuery(Instant.EPOCH, null, null, Set.of(), null, 7);
        while (true) {
            EventPage p = log.query(q);
            forward.addAll(p.events());
            if (!p.hasMore()) {
                break;
            }
            q = q.withAfter(p.events().getLast().id());
        }
        assertEquals(byId, forward);

        // backwards from the newest, 8 at a time
        List<Event> backward = new ArrayList<>();
        EventQuery b = EventQuery.latest(8);
        while (true) {
            EventPage p = log.query(b);
            backward.addAll(0, p.events());
            if (!p.hasMore()) {
                break;
            }
            b = b.withBefore(p.events().getFirst().id());
        }
        assertEquals(byId, backward);

        // filters: type, visibility, one conversation
        EventPage users = log.query(EventQuery.latest(100).withTypes(EnumSet.of(EventType.USER_MESSAGE)));
        assertEquals(byId.stream().filter(e -> e.type() == EventType.USER_MESSAGE).toList(), users.events());
        assertFalse(users.hasMore());
        EventPage internal = log.query(EventQuery.latest(100).withVisibility(Visibility.INTERNAL));
        assertEquals(byId.stream().filter(e -> e.visibility() == Visibility.INTERNAL).toList(), internal.events());
        EventPage one = log.query("page-1", EventQuery.latest(5));
        List<Event> page1 = byId.stream().filter(e -> e.conversationId().equals("page-1")).toList();
        assertEquals(page1.subList(page1.size() - 5, page1.size()), one.events());
        assertTrue(one.hasMore());

        // since: events stamped at or after an instant
        Instant middle = byId.get(30).timestamp();
        try (Stream<Event> since = log.since(middle)) {
            assertEquals(byId.stream().filter(e -> !e.timestamp().isBefore(middle)).toList(), since.toList());
        }
    }

    @Test
    void byTypeStreamsConversationByConversationFiltered() {
        List<Event> all = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            String conversation = "type-" + (2 - i % 3);
            all.add(log.append(user(conversation, "u" + i)));
            all.add(log.append(event(conversation, EventType.ERROR, Visibility.INTERNAL, "e" + i)));
        }
        List<Event> expected = new ArrayList<>();
        for (String c : List.of("type-0", "type-1", "type-2")) {
            all.stream().filter(e -> e.conversationId().equals(c) && e.type() == EventType.ERROR).forEach(expected::add);
        }
        try (Stream<Event> errors = log.byType(Set.of(EventType.ERROR), null)) {
            assertEquals(expected, errors.toList());
        }
        try (Stream<Event> none = log.byType(Set.of(EventType.ERROR), Visibility.USER)) {
            assertEquals(List.of(), none.toList());
        }
        try (Stream<Event> any = log.byType(Set.of(), null)) {
            assertEquals(all.size(), any.count());
        }
    }

    @Test
    void archiveTakesAConversationOutOfEveryQuery() {
        log.append(user("keep", "k"));
        log.append(user("gone", "g1"));
        log.append(user("gone", "g2"));
        store.summaries().write("gone", "summary of gone");
        assertTrue(log.archive("gone", dir.resolve("archive")));
        assertTrue(store.summaries().archive("gone", dir.resolve("archive")));
        assertEquals(List.of("keep"), log.conversationIds());
        assertFalse(log.exists("gone"));
        assertEquals(List.of(), log.tail("gone", 10));
        assertEquals(1, log.query(EventQuery.latest(10)).events().size());
        assertEquals(Optional.empty(), store.summaries().read("gone"));
        assertFalse(log.archive("gone", dir.resolve("archive")));
        // the id starts afresh
        Event again = log.append(user("gone", "new life"));
        assertEquals(List.of(again), log.tail("gone", 10));
    }

    @Test
    void summariesRoundTripWithTheirRef() {
        assertEquals(Optional.empty(), store.summaries().read("sum"));
        assertFalse(store.summaries().exists("sum"));
        Summary first = store.summaries().write("sum", "- one\n- two\n");
        Summary second = store.summaries().write("sum", "- three\n");
        assertEquals(Optional.of(second), store.summaries().read("sum"));
        assertTrue(store.summaries().exists("sum"));
        assertFalse(first.summaryRef().equals(second.summaryRef()));
    }

    @Test
    void agentsAreSeededAndEdited() {
        assertEquals(List.of("planner", "researcher"), store.agents().list().stream().map(Agent::id).toList());
        Agent saved = store.agents().upsert(new Agent(" coder ", " Coder ", " You write code. ", "# Coder\n"));
        assertEquals(new Agent("coder", "Coder", "You write code.", "# Coder"), saved);
        assertEquals(Optional.of(saved), store.agents().get("coder"));
        assertTrue(store.agents().delete("planner"));
        assertFalse(store.agents().delete("planner"));
        assertEquals(List.of("coder", "researcher"), store.agents().list().stream().map(Agent::id).toList());
        assertThrows(InvalidIdException.class, () -> store.agents().get("../etc"));
    }

    @Test
    void badIdsAreRefusedBeforeAnythingIsWritten() {
        assertThrows(InvalidIdException.class, () -> log.tail("../x", 1));
        assertThrows(InvalidIdException.class, () -> store.summaries().write("a/b", "x"));
        assertThrows(IllegalArgumentException.class, () -> log.appendAll(List.of(user("x1", "a"), user("x2", "b"))));
        assertEquals(List.of(), log.conversationIds());
        assertEquals(Collections.emptyList(), log.query(EventQuery.latest(5)).events());
    }
}
