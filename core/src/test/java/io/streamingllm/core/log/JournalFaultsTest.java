package io.streamingllm.core.log;

import jakarta.json.Json;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The journal when its disk fails, by injected channel faults (I/O errors where a real disk cannot be made to fail
 * on cue): retried writes, failed appends taken back from the files and never replayed, recovery without a
 * restart, and a journal that refuses appends once it cannot undo a failed write.
 */
class JournalFaultsTest {
    private static final long SEGMENT = 1 << 20;

    @TempDir
    Path dir;
    private final FaultyChannel.Faults faults = new FaultyChannel.Faults();
    private final List<EventLog> opened = new ArrayList<>();

    @AfterEach
    void closeLogs() {
        faults.heal();
        faults.failRecords.set(false);
        faults.failCreate.set(false);
        opened.forEach(EventLog::close);
    }

    private Path logs() {
        return dir.resolve("logs");
    }

    private EventLog open(Duration retry) {
        EventLog log = new EventLog(logs(), EventLog.DEFAULT_MAX_OPEN_FILES, SEGMENT, retry, faults.files());
        opened.add(log);
        return log;
    }

    private EventLog reopen() {
        EventLog log = new EventLog(logs());
        opened.add(log);
        return log;
    }

    private static Event user(String conv, String content) {
        return Event.create(conv, EventType.USER_MESSAGE, Visibility.USER,
                Json.createObjectBuilder().add("content", content).build());
    }

    private Path file(String conv) {
        return logs().resolve(conv + ".jsonl");
    }

    private static void await(BooleanSupplier condition, String what) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.onSpinWait();
        }
    }

    @Test
    void aWriteThatFailsOnceIsRetriedAndEveryAcknowledgedRecordIsReplayed() throws IOException {
        EventLog log = open(Duration.ofSeconds(10));
        Event first = log.append(user("c", "first"));
        faults.writes.set(1); // the next record's write fails half-way
        Event second = log.append(user("c", "second"));
        Event third = log.append(user("c", "third"));
        assertEquals(1, faults.failed.get(), "one write failed and was retried");
        assertTrue(log.health().writable());

        log.halt(); // a crash: the records are in the journal only
        Files.write(file("c"), new byte[0]); // and the page cache of the file is lost
        assertEquals(List.of(first, second, third), reopen().tail("c", 10),
                "the retried record and the one after it replay: no gap in the sequence, no half record");
    }

    @Test
    void anAppendWhoseRecordKeepsFailingFailsAndLeavesNothingInTheLogNorTheJournal() throws IOException {
        EventLog log = open(Duration.ofMillis(300));
        Event kept = log.append(user("c", "kept"));
        long sizeBefore = Files.size(file("c"));
        faults.failRecords.set(true); // each try writes the whole record, then reports an I/O error

        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> log.append(user("c", "lost")));
        assertTrue(e.getMessage().contains("Input/output error"), e.getMessage());
        assertEquals(sizeBefore, Files.size(file("c")), "the failed append's line was cut from the file");

        log.halt(); // a crash right after: the failed record's bytes were whole in the segment
        Files.write(file("c"), new byte[0]);
        assertEquals(List.of(kept), reopen().tail("c", 10),
                "the failed record was cleared from its segment: a replay never brings it back");
    }

    @Test
    void appendsWorkAgainWithoutARestartOnceRecordsCanBeWritten() throws IOException {
        EventLog log = open(Duration.ofMillis(300));
        Event kept = log.append(user("c", "kept"));
        faults.failRecords.set(true);
        assertThrows(UncheckedIOException.class, () -> log.append(user("c", "lost")));
        faults.failRecords.set(false);
        Event after = log.append(user("c", "after"));
        assertEquals(List.of(kept, after), log.tail("c", 10));

        log.halt();
        Files.write(file("c"), new byte[0]);
        assertEquals(List.of(kept, after), reopen().tail("c", 10));
    }

    @Test
    void appendsWaitWhileNoSegmentCanBeMadeAndGoOnWhenOneCan() throws Exception {
        EventLog log = open(Duration.ofSeconds(30));
        faults.failCreate.set(true); // no space for the first segment
        CompletableFuture<Event> waiting = CompletableFuture.supplyAsync(() -> log.append(user("c", "patient")));
        await(() -> faults.failed.get() >= 2, "the segment was tried again");
        assertFalse(waiting.isDone(), "the append waits while it retries");
        assertFalse(log.health().writable());
        assertTrue(log.health().detail().contains("No space left on device"), log.health().detail());

        faults.failCreate.set(false); // space again
        Event written = waiting.get(20, TimeUnit.SECONDS);
        assertEquals(List.of(written), log.tail("c", 10));
        assertTrue(log.health().writable());
    }

    @Test
    void aJournalThatCouldNotMakeASegmentRecoversWithoutARestart() throws Exception {
        EventLog log = open(Duration.ofMillis(200));
        faults.failCreate.set(true);
        assertThrows(UncheckedIOException.class, () -> log.append(user("c", "refused")));
        assertFalse(Files.exists(file("c")) && Files.size(file("c")) > 0, "nothing of the failed append stays");
        assertFalse(log.health().writable());

        faults.failCreate.set(false);
        await(() -> log.health().writable(), "the health probe finds that a segment can be made");
        Event later = log.append(user("c", "later"));
        assertEquals(List.of(later), log.tail("c", 10));
    }

    @Test
    void aFailedRecordThatCannotBeClearedStopsAppendsUntilARestart() throws IOException {
        EventLog log = open(Duration.ofMillis(200));
        Event kept = log.append(user("c", "kept"));
        faults.failAll(); // writes and forces fail, the zeros that would clear a failed record too
        assertThrows(UncheckedIOException.class, () -> log.append(user("c", "lost")));
        faults.heal();
        UncheckedIOException refused = assertThrows(UncheckedIOException.class, () -> log.append(user("c", "more")));
        assertTrue(refused.getMessage().contains("restart"), refused.getMessage());
        LogHealth h = log.health();
        assertFalse(h.writable());
        assertTrue(h.detail().contains("restart"), h.detail());
        log.close();

        EventLog restarted = reopen();
        assertEquals(kept, restarted.tail("c", 10).get(0));
        Event after = restarted.append(user("c", "after restart"));
        assertEquals(after, restarted.tail("c", 1).get(0));
    }
}
