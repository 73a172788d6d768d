package io.streamingllm.core.log;

import io.streamingllm.core.InvalidIdException;
import jakarta.json.Json;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Pages of events: cursors both ways, filters while reading, across conversations and in one. */
class EventQueryTest {
    @TempDir
    Path dir;
    private EventLog log;

    @AfterEach
    void close() {
        if (log != null) {
            log.close();
        }
    }

    private EventLog open() {
        log = new EventLog(dir.resolve("logs"), 16, 1 << 20);
        return log;
    }

    private static Event event(String conv, EventType type, Visibility vis, String content) {
        return Event.create(conv, type, vis, Json.createObjectBuilder().add("content", content).build());
    }

    /** Pages a query through to its end, following its cursor; every page at most {@code limit} events. */
    private static List<Event> pageThrough(EventLog l, String conversation, EventQuery first) {
        List<Event> all = new ArrayList<>();
        EventQuery q = first;
        for (int pages = 0; pages < 10_000; pages++) {
            EventPage p = conversation == null ? l.query(q) : l.query(conversation, q);
            assertTrue(p.events().size() <= q.limit());
            if (q.forward()) {
                all.addAll(p.events());
            } else {
                all.addAll(0, p.events());
            }
            if (!p.hasMore()) {
                return all;
            }
            assertFalse(p.events().isEmpty(), "a page with more after it is not empty");
            q = q.forward() ? q.withAfter(p.events().get(p.events().size() - 1).id())
                    : q.withBefore(p.events().get(0).id());
        }
        throw new AssertionError("did not end");
    }

    @Test
    void aConversationLongerThanAPageIsPagedThroughBothWays() {
        EventLog l = open();
        List<Event> written = new ArrayList<>();
        for (int batch = 0; batch < 25; batch++) {
            List<Event> events = new ArrayList<>();
            for (int i = 0; i < 1000; i++) {
                events.add(event("long", EventType.USER_MESSAGE, Visibility.USER, "m" + (batch * 1000 + i)));
            }
            written.addAll(l.appendAll(events));
        }
        EventPage newest = l.query("long", EventQuery.latest(10_000));
        assertEquals(written.subList(15_000, 25_000), newest.events(), "the newest page, oldest first");
        assertTrue(newest.hasMore());
        assertEquals(written, pageThrough(l, "long", EventQuery.latest(10_000)), "backwards with before=");
        assertEquals(written, pageThrough(l, "long", EventQuery.latest(7_000).withSince(Instant.EPOCH)),
                "forwards with after=");
        assertEquals(written, prepend(written.get(0),
                pageThrough(l, "long", EventQuery.latest(7_000).withAfter(written.get(0).id()))));
        EventPage middle = l.query("long", EventQuery.latest(3).withAfter(written.get(12_344).id()));
        assertEquals(written.subList(12_345, 12_348), middle.events(), "after: the next events");
        EventPage before = l.query("long", EventQuery.latest(3).withBefore(written.get(12_344).id()));
        assertEquals(written.subList(12_341, 12_344), before.events(), "before: the events right before it");
        EventPage range = l.query("long", EventQuery.latest(100).withAfter(written.get(10).id())
                .withBefore(written.get(14).id()));
        assertEquals(written.subList(11, 14), range.events());
        assertFalse(range.hasMore());
        assertEquals(List.of(), l.query("long", EventQuery.latest(5).withAfter(written.get(24_999).id())).events());
        assertFalse(l.query("long", EventQuery.latest(5).withAfter(written.get(24_999).id())).hasMore());
    }

    private static List<Event> prepend(Event first, List<Event> rest) {
        List<Event> all = new ArrayList<>();
        all.add(first);
        all.addAll(rest);
        return all;
    }

    @Test
    void pagesAcrossConversationsAreInCreationOrderWithFiltersAppliedWhileReading() {
        EventLog l = open();
        List<Event> all = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            EventType type = i % 50 == 7 ? EventType.ERROR : i % 2 == 0 ? EventType.USER_MESSAGE : EventType.ASSISTANT_MESSAGE;
            Visibility vis = type == EventType.ERROR ? Visibility.INTERNAL : Visibility.USER;
            all.add(l.append(event("c" + (i % 7), type, vis, "event " + i)));
        }
        assertEquals(all, pageThrough(l, null, EventQuery.latest(40)), "newest first, paged back");
        assertEquals(all, pageThrough(l, null, EventQuery.latest(40).withSince(Instant.EPOCH)), "oldest first");

        List<Event> errors = all.stream().filter(e -> e.type() == EventType.ERROR).toList();
        assertEquals(6, errors.size());
        EventPage lastErrors = l.query(EventQuery.latest(4).withTypes(Set.of(EventType.ERROR)));
        assertEquals(errors.subList(2, 6), lastErrors.events());
        assertTrue(lastErrors.hasMore());
        assertEquals(errors, pageThrough(l, null, EventQuery.latest(4).withTypes(Set.of(EventType.ERROR))));
        assertEquals(errors, pageThrough(l, null, EventQuery.latest(5).withVisibility(Visibility.INTERNAL)
                .withSince(Instant.EPOCH)));
        List<Event> users = all.stream().filter(e -> e.type() == EventType.USER_MESSAGE).toList();
        assertEquals(users, pageThrough(l, null, EventQuery.latest(33)
                .withTypes(Set.of(EventType.USER_MESSAGE)).withVisibility(Visibility.USER)));

        Instant cut = all.get(200).timestamp();
        List<Event> sinceCut = all.stream().filter(e -> !e.timestamp().isBefore(cut)).toList();
        EventPage first = l.query(EventQuery.latest(1).withSince(cut));
        assertEquals(List.of(sinceCut.get(0)), first.events(), "since=&limit=1: the first event at or after it");
        assertTrue(first.hasMore());
        try (Stream<Event> s = l.since(cut)) {
            assertEquals(sinceCut, s.toList(), "the since stream, read a page at a time");
        }
        try (Stream<Event> s = l.since(Instant.EPOCH)) {
            assertEquals(all, s.toList());
        }
        assertEquals(List.of(), l.query(EventQuery.latest(10).withSince(Instant.now().plusSeconds(60))).events());
        assertEquals(List.of(), l.query("nobody", EventQuery.latest(10)).events());
    }

    @Test
    void filesLastWrittenBeforeTheBoundAreNotOpened() throws IOException {
        EventLog l = open();
        Event old = l.append(event("old", EventType.USER_MESSAGE, Visibility.USER, "old"));
        Event recent = l.append(event("recent", EventType.USER_MESSAGE, Visibility.USER, "recent"));
        // a file whose mtime says it holds nothing recent, holding the newest event: read, it would show
        l.append(event("sneaky", EventType.USER_MESSAGE, Visibility.USER, "sneaky"));
        Files.setLastModifiedTime(dir.resolve("logs/old.jsonl"), FileTime.from(Instant.parse("2020-01-01T00:00:00Z")));
        Files.setLastModifiedTime(dir.resolve("logs/sneaky.jsonl"), FileTime.from(Instant.parse("2019-01-01T00:00:00Z")));

        assertEquals(List.of(recent), l.query(EventQuery.latest(10).withSince(old.timestamp())).events(),
                "since: files last written long before it are not opened");
        EventPage newest = l.query(EventQuery.latest(1));
        assertEquals(List.of(recent), newest.events(),
                "newest first: files last written before what the page can take are not opened");
    }

    @Test
    void pagesStopAtAByteBudgetAndSayThereIsMore() {
        EventLog l = open();
        String big = "x".repeat(512 * 1024);
        List<Event> written = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            written.add(l.append(event("big", EventType.ASSISTANT_MESSAGE, Visibility.USER, big + i)));
        }
        EventPage p = l.query("big", EventQuery.latest(1000).withSince(Instant.EPOCH));
        assertTrue(p.events().size() < 12 && p.events().size() >= 7, "about 4 MiB of lines: " + p.events().size());
        assertTrue(p.hasMore());
        assertEquals(written.subList(0, p.events().size()), p.events());
        assertEquals(written, pageThrough(l, "big", EventQuery.latest(1000).withSince(Instant.EPOCH)));
    }

    @Test
    void badCursorsAndLimitsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> EventQuery.latest(0));
        assertThrows(IllegalArgumentException.class, () -> EventQuery.latest(1).withAfter(" "));
        assertThrows(IllegalArgumentException.class, () -> EventQuery.latest(1).withBefore("x".repeat(129)));
        EventLog l = open();
        assertThrows(InvalidIdException.class, () -> l.query("../etc", EventQuery.latest(1)));
    }

    @Test
    void queriesSkipMalformedLinesAndAnUnfinishedLastLine() throws IOException {
        EventLog l = open();
        Event a = l.append(event("m", EventType.USER_MESSAGE, Visibility.USER, "a"));
        Path file = dir.resolve("logs/m.jsonl");
        Files.writeString(file, "{\"broken\n", StandardOpenOption.APPEND);
        Event b = Event.create("m", EventType.USER_MESSAGE, Visibility.USER, null);
        Files.writeString(file, EventCodec.toLine(b) + "\n{\"id\":\"half", StandardOpenOption.APPEND);
        Path other = dir.resolve("logs/n.jsonl");
        Files.writeString(other, "{\"id\":\"zz\n");
        assertEquals(List.of(a, b), l.query(EventQuery.latest(10)).events());
        assertEquals(List.of(a, b), l.query(EventQuery.latest(10).withSince(Instant.EPOCH)).events());
    }
}
