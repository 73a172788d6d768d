package io.streamingllm.core.log;

import io.streamingllm.core.InvalidIdException;
import jakarta.json.Json;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The write-ahead journal with real files: lost page cache, torn journal tails, replay, rollover, archive. */
class EventLogJournalTest {
    @TempDir
    Path dir;
    private final List<EventLog> opened = new ArrayList<>();

    @AfterEach
    void closeLogs() {
        opened.forEach(EventLog::close);
    }

    private Path logs() {
        return dir.resolve("logs");
    }

    private EventLog open(long segmentSize) {
        EventLog log = new EventLog(logs(), EventLog.DEFAULT_MAX_OPEN_FILES, segmentSize);
        opened.add(log);
        return log;
    }

    private EventLog open() {
        return open(Journal.DEFAULT_SEGMENT_SIZE);
    }

    private static Event user(String conv, String content) {
        return Event.create(conv, EventType.USER_MESSAGE, Visibility.USER,
                Json.createObjectBuilder().add("content", content).build());
    }

    private Path file(String conv) {
        return logs().resolve(conv + ".jsonl");
    }

    private List<Path> segments() throws IOException {
        Path journal = logs().resolve(Journal.DIR);
        if (!Files.isDirectory(journal)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(journal)) {
            return s.filter(p -> p.toString().endsWith(Journal.SEGMENT_SUFFIX)).sorted().toList();
        }
    }

    /** Appends from several threads to the given conversations; returns each conversation's file bytes after. */
    private Map<String, byte[]> appendConcurrently(EventLog log, List<String> conversations, int threads, int each)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < each; i++) {
                        String conv = conversations.get((thread + i) % conversations.size());
                        if (i % 5 == 4) {
                            log.appendAll(List.of(user(conv, thread + ":" + i + ":a"), user(conv, thread + ":" + i + ":b")));
                        } else {
                            log.append(user(conv, thread + ":" + i + ":" + "p".repeat(ThreadLocalRandom.current().nextInt(400))));
                        }
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        Map<String, byte[]> files = new HashMap<>();
        for (String conv : conversations) {
            files.put(conv, Files.readAllBytes(file(conv)));
        }
        return files;
    }

    private static void assertWellFormed(Path file) throws IOException {
        for (String line : EventLogTest.rawLines(file)) {
            EventLogTest.parseLine(line); // throws on a malformed line
        }
    }

    @Test
    void acknowledgedEventsComeBackWhenTheConversationFilesLostTheirPageCache() throws Exception {
        EventLog log = open();
        List<String> convs = List.of("truncated", "zeroed", "deleted", "torn", "intact");
        Map<String, byte[]> acknowledged = appendConcurrently(log, convs, 8, 30);
        log.halt(); // no checkpoint: durability of everything above rests on the journal alone
        assertFalse(segments().isEmpty(), "the halted log leaves its journal");

        // what a machine crash does to files that were never forced
        Files.write(file("truncated"), new byte[0]);
        int zeros;
        try (RandomAccessFile f = new RandomAccessFile(file("zeroed").toFile(), "rw")) {
            long half = f.length() / 2;
            zeros = (int) (f.length() - half);
            f.seek(half);
            f.write(new byte[zeros]);
        }
        Files.delete(file("deleted"));
        try (RandomAccessFile f = new RandomAccessFile(file("torn").toFile(), "rw")) {
            f.setLength(f.length() * 2 / 3);
        }

        EventLog reopened = open();
        for (String conv : convs) {
            assertArrayEquals(acknowledged.get(conv), Files.readAllBytes(file(conv)), conv + ": every event back, in order");
            assertWellFormed(file(conv));
            assertEquals(EventLogTest.rawLines(file(conv)).size(), reopened.tail(conv, 10_000).size());
        }
        byte[] zeroedAside = Files.readAllBytes(logs().resolve("zeroed.jsonl.corrupt"));
        int zerosAside = 0;
        for (byte b : zeroedAside) {
            zerosAside += b == 0 ? 1 : 0;
        }
        assertEquals(zeros, zerosAside, "the zeros found where events belong are kept aside");
        assertTrue(Files.exists(logs().resolve("torn.jsonl.corrupt")), "the torn line is kept aside");
        assertFalse(Files.exists(logs().resolve("intact.jsonl.corrupt")));
        assertFalse(Files.exists(logs().resolve("truncated.jsonl.corrupt")));
        assertEquals(List.of(), segments(), "replayed segments are dropped");
        assertEquals(convs.stream().sorted().toList(), reopened.conversationIds());

        reopened.append(user("zeroed", "after recovery"));
        assertEquals("after recovery", reopened.tail("zeroed", 1).get(0).payload().getString("content"));
        reopened.close();
        assertFalse(Files.exists(logs().resolve(Journal.DIR)), "a clean close leaves no journal");
    }

    @Test
    void aTornOrGarbageJournalTailIsIgnored() throws Exception {
        EventLog log = open();
        List<Event> acked = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            acked.add(log.append(user("g", "event " + i)));
        }
        log.halt();
        Path segment = segments().get(0);
        byte[] bytes = Files.readAllBytes(segment);
        int end = bytes.length;
        while (end > 0 && bytes[end - 1] == 0) {
            end--;
        }
        assertEquals('\n', bytes[end - 1], "the last record ends with its line's newline");
        long lastSeq = 20; // a fresh journal numbers its records from 1

        Map<String, byte[]> tails = new LinkedHashMap<>();
        tails.put("random bytes", randomBytes(300));
        tails.put("a length beyond the segment", ByteBuffer.allocate(8).putInt(Integer.MAX_VALUE - 8).putInt(7).array());
        byte[] torn = record(lastSeq + 1, "g", 0, "{\"torn\":true}\n".getBytes(StandardCharsets.UTF_8));
        Arrays.fill(torn, torn.length / 2, torn.length, (byte) 0);
        tails.put("a torn record", torn);
        // checksummed correctly but stale: its sequence number does not follow; replaying it would overwrite g
        tails.put("a stale record", record(3, "g", 0, "{\"stale\":true}\n".getBytes(StandardCharsets.UTF_8)));

        Path saved = Files.copy(segment, dir.resolve("segment.saved"));
        byte[] expected = Files.readAllBytes(file("g"));
        for (Map.Entry<String, byte[]> tail : tails.entrySet()) {
            Files.copy(saved, segment, StandardCopyOption.REPLACE_EXISTING);
            try (RandomAccessFile f = new RandomAccessFile(segment.toFile(), "rw")) {
                f.seek(end);
                f.write(tail.getValue());
            }
            Files.write(file("g"), new byte[0]); // lost page cache: only the journal can bring the events back
            try (EventLog reopened = new EventLog(logs())) {
                assertEquals(acked, reopened.tail("g", 100), tail.getKey());
            }
            assertArrayEquals(expected, Files.readAllBytes(file("g")), tail.getKey());
            assertFalse(Files.exists(logs().resolve("g.jsonl.corrupt")), tail.getKey());
            Files.createDirectories(segment.getParent()); // the clean close removed the journal directory
        }

        // a flipped bit in the last record: that record is not valid, the ones before it are replayed
        byte[] damaged = Files.readAllBytes(saved);
        damaged[end - 3] ^= 0x20;
        Files.write(segment, damaged);
        Files.write(file("g"), new byte[0]);
        try (EventLog reopened = new EventLog(logs())) {
            assertEquals(acked.subList(0, 19), reopened.tail("g", 100));
        }
    }

    @Test
    void replayingTheSameJournalTwiceChangesNothing() throws Exception {
        EventLog log = open();
        List<String> convs = List.of("r1", "r2", "r3");
        Map<String, byte[]> acknowledged = appendConcurrently(log, convs, 4, 20);
        log.halt();
        Path journal = logs().resolve(Journal.DIR);
        Path copy = Files.createDirectories(dir.resolve("journal-copy"));
        for (Path segment : segments()) {
            Files.copy(segment, copy.resolve(segment.getFileName()));
        }
        Files.write(file("r1"), new byte[0]);
        try (RandomAccessFile f = new RandomAccessFile(file("r2").toFile(), "rw")) {
            f.seek(f.length() / 3);
            f.write(new byte[10]);
        }

        new EventLog(logs()).close();
        Map<String, byte[]> afterFirst = snapshot(convs);
        byte[] corruptAfterFirst = Files.readAllBytes(logs().resolve("r2.jsonl.corrupt"));
        for (String conv : convs) {
            assertArrayEquals(acknowledged.get(conv), afterFirst.get(conv), conv);
        }

        // a crash right after the replay, before the journal was dropped: the same journal again
        Files.createDirectories(journal);
        try (Stream<Path> s = Files.list(copy)) {
            for (Path segment : s.toList()) {
                Files.copy(segment, journal.resolve(segment.getFileName()));
            }
        }
        new EventLog(logs()).close();
        Map<String, byte[]> afterSecond = snapshot(convs);
        for (String conv : convs) {
            assertArrayEquals(afterFirst.get(conv), afterSecond.get(conv), conv);
        }
        assertArrayEquals(corruptAfterFirst, Files.readAllBytes(logs().resolve("r2.jsonl.corrupt")), "nothing new moved aside");
        assertFalse(Files.exists(logs().resolve("r1.jsonl.corrupt")));
        assertFalse(Files.exists(logs().resolve("r3.jsonl.corrupt")));
    }

    private Map<String, byte[]> snapshot(List<String> convs) throws IOException {
        Map<String, byte[]> files = new HashMap<>();
        for (String conv : convs) {
            files.put(conv, Files.readAllBytes(file(conv)));
        }
        return files;
    }

    @Test
    void segmentsRollOverAndCheckpointUnderConcurrentAppendsWithoutLoss() throws Exception {
        EventLog log = open(16 * 1024);
        List<String> convs = new ArrayList<>();
        for (int c = 0; c < 12; c++) {
            convs.add("roll-" + c);
        }
        int threads = 16;
        int each = 60;
        List<Event> acked = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < each; i++) {
                        // now and then one event larger than a whole segment
                        int size = i == 30 && thread % 4 == 0 ? 40_000 : ThreadLocalRandom.current().nextInt(50, 1500);
                        acked.add(log.append(user(convs.get((thread * 7 + i) % convs.size()),
                                thread + ":" + i + ":" + "r".repeat(size))));
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get(120, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        log.awaitCheckpoints();
        assertTrue(log.checkpoints() >= 10, "segments rolled over and were checkpointed: " + log.checkpoints());
        assertTrue(segments().size() <= 2, "checkpointed segments are deleted: " + segments());
        log.halt();

        EventLog reopened = open(16 * 1024);
        Map<String, Event> found = new HashMap<>();
        for (String conv : convs) {
            assertWellFormed(file(conv));
            for (Event e : reopened.read(conv).toList()) {
                assertEquals(null, found.put(e.id(), e), "no event twice");
            }
            assertFalse(Files.exists(logs().resolve(conv + ".jsonl.corrupt")), conv);
        }
        assertEquals(threads * each, acked.size());
        assertEquals(Set.copyOf(acked), Set.copyOf(found.values()), "every acknowledged event, nothing else");
        reopened.close();
        assertFalse(Files.exists(logs().resolve(Journal.DIR)), "a clean close leaves no journal");
    }

    @Test
    void aRecordWhoseEarlierBytesAreGoneIsKeptAndTheGapReported() throws Exception {
        EventLog log = open(4096);
        Event first = log.append(user("gap", "f".repeat(3000)));
        Event second = log.append(user("gap", "s".repeat(3000))); // does not fit: the first segment is sealed
        log.awaitCheckpoints();
        Event third = log.append(user("gap", "third"));
        log.halt();
        // the checkpointed first event is lost anyway (a damaged disk, a careless operator)
        Files.delete(file("gap"));

        EventLog reopened = open(4096);
        assertEquals(List.of(second, third), reopened.read("gap").toList(), "what the journal holds is kept, in order");
        assertWellFormed(file("gap"));
        assertTrue(first.id().length() > 0);
    }

    @Test
    void anArchivedConversationIsNotBroughtBackByReplay() throws Exception {
        EventLog log = open();
        log.append(user("arch", "old 1"));
        log.append(user("arch", "old 2"));
        Path archive = dir.resolve("archive");
        assertTrue(log.archive("arch", archive));
        Event fresh = log.append(user("arch", "new"));
        log.halt();

        EventLog reopened = open();
        assertEquals(List.of(fresh), reopened.read("arch").toList());
        assertFalse(Files.exists(logs().resolve("arch.jsonl.corrupt")));
        try (Stream<Path> s = Files.list(archive)) {
            Path archived = s.findFirst().orElseThrow();
            assertEquals(2, EventLogTest.rawLines(archived).size());
        }
    }

    @Test
    void theJournalNeverShowsAsAConversation() throws Exception {
        EventLog log = open();
        Event a = log.append(user("a", "one"));
        assertFalse(segments().isEmpty(), "journal present while the log is open");
        assertEquals(List.of("a"), log.conversationIds());
        try (Stream<Event> s = log.byType(null, null)) {
            assertEquals(List.of(a), s.toList());
        }
        try (Stream<Event> s = log.since(Instant.EPOCH)) {
            assertEquals(List.of(a), s.toList());
        }
        assertThrows(InvalidIdException.class, () -> log.exists(Journal.DIR));
        assertThrows(InvalidIdException.class, () -> log.append(user(Journal.DIR, "x")));
        log.halt();
        EventLog reopened = open();
        assertEquals(List.of("a"), reopened.conversationIds());
    }

    /** A journal record as {@link Journal} writes it, with a correct checksum. */
    private static byte[] record(long seq, String conv, long offset, byte[] line) {
        byte[] id = conv.getBytes(StandardCharsets.US_ASCII);
        int bodyLength = 8 + 8 + 1 + 1 + id.length + line.length;
        ByteBuffer buf = ByteBuffer.allocate(8 + bodyLength);
        buf.putInt(bodyLength).putInt(0).putLong(seq).putLong(offset).put(JournalRecord.LINES).put((byte) id.length)
                .put(id).put(line);
        CRC32C crc = new CRC32C();
        crc.update(buf.array(), 8, bodyLength);
        buf.putInt(4, (int) crc.getValue());
        return buf.array();
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        ThreadLocalRandom.current().nextBytes(b);
        b[0] = 0x7f; // a large length, never a plausible one
        return b;
    }
}
