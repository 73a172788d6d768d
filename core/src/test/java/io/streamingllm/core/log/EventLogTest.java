package io.streamingllm.core.log;

import jakarta.json.Json;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EventLogTest {
    @TempDir
    Path dir;
    private EventLog log;

    @AfterEach
    void closeLog() {
        if (log != null) {
            log.close();
        }
    }

    private EventLog open() {
        log = new EventLog(dir.resolve("logs"));
        return log;
    }

    private static Event event(String conv, EventType type, Visibility vis, String content) {
        return Event.create(conv, type, vis, Json.createObjectBuilder().add("content", content).build());
    }

    private static Event user(String conv, String content) {
        return event(conv, EventType.USER_MESSAGE, Visibility.USER, content);
    }

    static List<String> rawLines(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        assertTrue(text.isEmpty() || text.endsWith("\n"), "live log must end with a newline");
        return text.isEmpty() ? List.of() : List.of(text.substring(0, text.length() - 1).split("\n", -1));
    }

    static Event parseLine(String line) {
        return Event.fromJson(Json.createReader(new StringReader(line)).readObject());
    }

    @Test
    void appendedEventsReadBackInOrderAndSurviveReopen() throws IOException {
        EventLog l = open();
        List<Event> written = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            written.add(l.append(user("c1", "message " + i + " with \"quotes\", a\nnewline and ü")));
        }
        try (Stream<Event> s = l.read("c1")) {
            assertEquals(written, s.toList());
        }
        Path file = dir.resolve("logs/c1.jsonl");
        assertEquals(50, rawLines(file).size(), "one JSON object a line");
        l.close();
        try (EventLog reopened = new EventLog(dir.resolve("logs")); Stream<Event> s = reopened.read("c1")) {
            assertEquals(written, s.toList());
        }
    }

    @Test
    void appendAllKeepsABatchAdjacentAndRefusesMixedConversations() throws Exception {
        EventLog l = open();
        int writers = 8;
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> futures = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                String tag = "w" + w;
                futures.add(pool.submit(() -> {
                    start.await();
                    for (int b = 0; b < 10; b++) {
                        List<Event> batch = new ArrayList<>();
                        for (int i = 0; i < 5; i++) {
                            batch.add(user("shared", tag + "-" + b + "-" + i));
                        }
                        l.appendAll(batch);
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        List<String> contents = l.read("shared").map(e -> e.payload().getString("content")).toList();
        assertEquals(writers * 10 * 5, contents.size());
        for (int i = 0; i < contents.size(); i += 5) {
            String prefix = contents.get(i).substring(0, contents.get(i).length() - 1);
            for (int j = 0; j < 5; j++) {
                assertEquals(prefix + j, contents.get(i + j), "a batch is written adjacent and in order");
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> l.appendAll(List.of(user("a", "x"), user("b", "y"))));
        assertTrue(e.getMessage().contains("one conversation"), e.getMessage());
        assertEquals(List.of(), l.appendAll(List.of()));
    }

    @Test
    void tailReturnsTheLastEventsChronologically() {
        EventLog l = open();
        List<Event> written = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            written.add(l.append(user("t", "m" + i)));
        }
        assertEquals(written.subList(20, 30), l.tail("t", 10));
        assertEquals(written.subList(29, 30), l.tail("t", 1));
        assertEquals(written, l.tail("t", 30));
        assertEquals(written, l.tail("t", 31));
        assertEquals(written, l.tail("t", Integer.MAX_VALUE));
        assertEquals(List.of(), l.tail("t", 0));
        assertEquals(List.of(), l.tail("never-written", 5));
        assertThrows(IllegalArgumentException.class, () -> l.tail("t", -1));
    }

    @Test
    void tailHandlesLinesLongerThanItsReadWindow() {
        EventLog l = open();
        List<Event> written = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            written.add(l.append(user("big", (char) ('a' + i) + "x".repeat(100_000 + i * 30_000))));
        }
        assertEquals(written.subList(3, 6), l.tail("big", 3));
        assertEquals(written, l.tail("big", 100));
    }

    @Test
    void sinceMergesConversationsInCreationOrderAndFiltersByTimestamp() {
        EventLog l = open();
        Event old = l.append(user("a", "old"));
        Instant cut = old.timestamp().plusNanos(1);
        List<Event> expected = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            expected.add(l.append(user(i % 2 == 0 ? "a" : "b", "new" + i)));
            expected.add(l.append(user("c", "other" + i)));
        }
        // written after the cut but stamped before it (an imported event, say): left out
        l.append(new Event(EventIds.next(), "d", EventType.ERROR, cut.minusSeconds(1), Visibility.INTERNAL, null));
        expected.add(l.append(user("d", "later")));
        try (Stream<Event> s = l.since(cut)) {
            assertEquals(expected, s.toList(), "ids are time-ordered: creation order across the files");
        }
        try (Stream<Event> s = l.since(Instant.now().plusSeconds(60))) {
            assertEquals(0, s.count());
        }
        try (Stream<Event> s = l.since(Instant.EPOCH)) {
            assertEquals(13, s.count());
        }
    }

    @Test
    void byTypeFiltersOnTypesAndVisibility() {
        EventLog l = open();
        Event u1 = l.append(user("a", "q"));
        Event a1 = l.append(event("a", EventType.ASSISTANT_MESSAGE, Visibility.USER, "answer"));
        Event s1 = l.append(event("a", EventType.SUMMARY_REFRESH, Visibility.INTERNAL, "sum"));
        Event e1 = l.append(event("b", EventType.ERROR, Visibility.INTERNAL, "boom"));
        Event u2 = l.append(user("b", "q2"));
        try (Stream<Event> s = l.byType(EnumSet.of(EventType.USER_MESSAGE), null)) {
            assertEquals(List.of(u1, u2), s.toList());
        }
        try (Stream<Event> s = l.byType(Set.of(), Visibility.INTERNAL)) {
            assertEquals(List.of(s1, e1), s.toList());
        }
        try (Stream<Event> s = l.byType(EnumSet.of(EventType.ASSISTANT_MESSAGE, EventType.ERROR), Visibility.USER)) {
            assertEquals(List.of(a1), s.toList());
        }
        try (Stream<Event> s = l.byType(null, null)) {
            assertEquals(5, s.count());
        }
    }

    @Test
    void listsExistsAndArchivesWithoutClobbering() throws IOException {
        EventLog l = open();
        l.append(user("x", "1"));
        l.append(user("y", "1"));
        Files.writeString(dir.resolve("logs/notes.txt"), "not a log");
        assertEquals(List.of("x", "y"), l.conversationIds());
        assertTrue(l.exists("x"));
        assertFalse(l.exists("z"));
        Path archive = dir.resolve("archive");
        assertTrue(l.archive("x", archive));
        assertFalse(l.exists("x"));
        assertFalse(l.archive("x", archive), "nothing left to archive");
        assertEquals(List.of("y"), l.conversationIds());
        // the same id is used again and archived again: both archives survive
        Event again = l.append(user("x", "2"));
        assertTrue(l.archive("x", archive));
        List<Path> archived;
        try (Stream<Path> s = Files.list(archive)) {
            archived = s.sorted().toList();
        }
        assertEquals(2, archived.size(), archived.toString());
        Set<String> contents = new HashSet<>();
        for (Path p : archived) {
            assertTrue(p.getFileName().toString().matches("x\\.\\d{8}T\\d{9}Z(-\\d+)?\\.jsonl"), p.toString());
            contents.add(parseLine(rawLines(p).get(0)).payload().getString("content"));
        }
        assertEquals(Set.of("1", "2"), contents);
        assertTrue(again.id().length() > 0);
    }

    @Test
    void appendAfterCloseIsRefused() {
        EventLog l = open();
        l.append(user("a", "x"));
        l.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> l.append(user("a", "y")));
        assertTrue(e.getMessage().contains("closed"));
    }

    @Test
    void anInterruptedAppenderStillAppendsAndKeepsItsInterruptStatus() throws Exception {
        EventLog l = open();
        Event first = l.append(user("intr", "before"));
        Event interrupted;
        Thread.currentThread().interrupt(); // e.g. a cancelled request's thread: the shared channel must survive it
        try {
            interrupted = l.append(user("intr", "while interrupted"));
            assertTrue(Thread.currentThread().isInterrupted(), "the interrupt status is kept for the caller");
        } finally {
            Thread.interrupted();
        }
        Event after = l.append(user("intr", "after"));
        assertEquals(List.of(first, interrupted, after), l.read("intr").toList());
        l.close();
        assertEquals(3, rawLines(dir.resolve("logs/intr.jsonl")).size());
    }

    @Test
    void sixtyFourThreadsOnOneConversationLoseNothingAndNeverInterleave() throws Exception {
        EventLog l = open();
        int threads = 64;
        int perThread = 40;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        List<Event> acknowledged = Collections.synchronizedList(new ArrayList<>());
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Callable<Void>> tasks = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                tasks.add(() -> {
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        // long, varied lines make interleaving visible if it ever happened
                        acknowledged.add(l.append(user("hot", thread + ":" + i + ":" + "z".repeat(50 + thread * 37))));
                    }
                    return null;
                });
            }
            List<Future<Void>> futures = tasks.stream().map(pool::submit).toList();
            start.countDown();
            for (Future<Void> f : futures) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        List<String> lines = rawLines(dir.resolve("logs/hot.jsonl"));
        assertEquals(threads * perThread, lines.size());
        List<Event> parsed = lines.stream().map(EventLogTest::parseLine).toList();
        assertEquals(Set.copyOf(acknowledged), Set.copyOf(parsed));
        // each writer's own events keep their order
        for (int t = 0; t < threads; t++) {
            String prefix = t + ":";
            List<Integer> seq = parsed.stream().map(e -> e.payload().getString("content"))
                    .filter(c -> c.startsWith(prefix)).map(c -> Integer.parseInt(c.split(":")[1])).toList();
            assertEquals(IntStream.range(0, perThread).boxed().toList(), seq);
        }
    }

    @Test
    void tenThousandConversationsKeepOpenFilesBounded() throws Exception {
        Path fds = Path.of("/proc/self/fd");
        assertTrue(Files.isDirectory(fds), "needs /proc to count open files (Linux)");
        EventLog l = open();
        long before = countFds(fds);
        int conversations = 10_000;
        int threads = 32;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        long[] maxSeen = {0};
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    for (int c = thread; c < conversations; c += threads) {
                        l.append(user("conv-" + c, "hello " + c));
                        if (c % 500 == thread) {
                            long n = countFds(fds);
                            synchronized (maxSeen) {
                                maxSeen[0] = Math.max(maxSeen[0], n);
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get(300, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertTrue(maxSeen[0] - before <= EventLog.DEFAULT_MAX_OPEN_FILES + 64,
                "open files grew by " + (maxSeen[0] - before));
        assertTrue(countFds(fds) - before <= EventLog.DEFAULT_MAX_OPEN_FILES + 16);
        assertEquals(conversations, l.conversationIds().size());
        assertEquals("hello 9999", l.tail("conv-9999", 1).get(0).payload().getString("content"));
        try (Stream<Event> s = l.byType(Set.of(EventType.USER_MESSAGE), Visibility.USER)) {
            assertEquals(conversations, s.count());
        }
        // an evicted conversation's channel reopens and keeps appending after its earlier line
        l.append(user("conv-0", "again"));
        assertEquals(List.of("hello 0", "again"),
                l.read("conv-0").map(e -> e.payload().getString("content")).toList());
    }

    private static long countFds(Path fds) {
        try (Stream<Path> s = Files.list(fds)) {
            return s.count();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void tornLastLineMovesToCorruptAndAppendsStayValid() throws IOException {
        Path logs = Files.createDirectories(dir.resolve("logs"));
        Event good1 = user("torn", "one");
        Event good2 = user("torn", "two");
        String torn = "{\"id\":\"x\",\"conversation_id\":\"torn\",\"type\":\"USER_ME";
        Files.writeString(logs.resolve("torn.jsonl"),
                line(good1) + "\n" + line(good2) + "\n" + torn, StandardCharsets.UTF_8);
        EventLog l = open();
        assertEquals(List.of(good1, good2), l.tail("torn", 10), "good lines are kept");
        assertEquals(torn + "\n", Files.readString(logs.resolve("torn.jsonl.corrupt")));
        Event after = l.append(user("torn", "three"));
        List<String> lines = rawLines(logs.resolve("torn.jsonl"));
        assertEquals(List.of(good1, good2, after), lines.stream().map(EventLogTest::parseLine).toList());
    }

    @Test
    void unparsableCompleteLastLineIsMovedAsideOnFirstAppend() throws IOException {
        Path logs = Files.createDirectories(dir.resolve("logs"));
        Event good = user("bad", "one");
        Files.writeString(logs.resolve("bad.jsonl"), line(good) + "\n{\"id\":\0\0\0garbage\n", StandardCharsets.UTF_8);
        EventLog l = open();
        Event after = l.append(user("bad", "two"));
        assertEquals(List.of(good, after), rawLines(logs.resolve("bad.jsonl")).stream().map(EventLogTest::parseLine).toList());
        assertEquals("{\"id\":\0\0\0garbage\n", Files.readString(logs.resolve("bad.jsonl.corrupt")));
        // a second crash appends to the same .corrupt file instead of replacing it
        l.close();
        Files.writeString(logs.resolve("bad.jsonl"), "{\"half", StandardOpenOption.APPEND);
        try (EventLog again = new EventLog(logs)) {
            again.append(user("bad", "three"));
            assertEquals(3, rawLines(logs.resolve("bad.jsonl")).size());
        }
        assertEquals("{\"id\":\0\0\0garbage\n{\"half\n", Files.readString(logs.resolve("bad.jsonl.corrupt")));
    }

    @Test
    void readersSkipAMalformedLineInTheMiddle() throws IOException {
        Path logs = Files.createDirectories(dir.resolve("logs"));
        Event a = user("mid", "a");
        Event b = user("mid", "b");
        Files.writeString(logs.resolve("mid.jsonl"), line(a) + "\nnot json\n" + line(b) + "\n");
        EventLog l = open();
        assertEquals(List.of(a, b), l.read("mid").toList());
        assertEquals(List.of(a, b), l.tail("mid", 5));
    }

    private static String line(Event e) {
        return e.toJson().toString();
    }
}
