package io.streamingllm.core.log;

import io.streamingllm.core.DirectoryLockException;
import io.streamingllm.core.testing.Tmpfs;
import jakarta.json.Json;
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
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The event log on a real small file system (a tmpfs mounted for the test) that fills up: appends wait for space
 * and go on when it returns, fail cleanly when it does not, the log recovers by itself, and small volumes get small
 * journal segments instead of none. A read-only log directory is refused when the log opens (a file system cannot
 * be remounted read-only under files open for writing, so a log never sees one turn read-only under it on Linux
 * short of the kernel forcing it after errors, which then fail its writes like any I/O error).
 */
class EventLogDiskTest {
    private static final long MIB = 1 << 20;

    @TempDir
    Path dir;

    private static Event user(String conv, String content) {
        return Event.create(conv, EventType.USER_MESSAGE, Visibility.USER,
                Json.createObjectBuilder().add("content", content).build());
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

    private static List<Long> segmentSizes(Path logs) throws IOException {
        try (Stream<Path> s = Files.list(logs.resolve(Journal.DIR))) {
            List<Long> sizes = new ArrayList<>();
            for (Path p : s.toList()) {
                sizes.add(Files.size(p));
            }
            return sizes;
        }
    }

    @Test
    void anAppendOnAFullDiskWaitsAndIsWrittenWhenSpaceReturns() throws Exception {
        try (Tmpfs fs = Tmpfs.mount(dir.resolve("vol"), 4 * MIB)) {
            Path logs = fs.dir().resolve("logs");
            try (EventLog log = new EventLog(logs, 16, Duration.ofSeconds(30))) {
                Event before = log.append(user("c", "before"));
                Path filler = fs.fill();
                CompletableFuture<Event> waiting = CompletableFuture.supplyAsync(
                        () -> log.append(user("c", "x".repeat(64 * 1024))));
                await(() -> !log.health().writable(), "the log says it cannot write");
                assertTrue(log.health().detail().contains("No space left on device"), log.health().detail());
                assertFalse(waiting.isDone(), "the append is waiting for space, not failed");

                Files.delete(filler); // space returns
                Event written = waiting.get(20, TimeUnit.SECONDS);
                assertEquals(List.of(before, written), log.tail("c", 10));
                assertTrue(log.health().writable());
            }
            try (EventLog reopened = new EventLog(logs)) {
                assertEquals(2, reopened.tail("c", 10).size());
            }
        }
    }

    @Test
    void aDiskThatStaysFullFailsTheAppendCleanlyAndTheLogRecoversWithoutARestart() throws Exception {
        try (Tmpfs fs = Tmpfs.mount(dir.resolve("vol"), 2 * MIB)) {
            Path logs = fs.dir().resolve("logs");
            try (EventLog log = new EventLog(logs, 16, Duration.ofMillis(300))) {
                Event before = log.append(user("c", "before"));
                long size = Files.size(logs.resolve("c.jsonl"));
                Path filler = fs.fill();
                UncheckedIOException e = assertThrows(UncheckedIOException.class,
                        () -> log.append(user("c", "y".repeat(64 * 1024))));
                assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
                assertEquals(size, Files.size(logs.resolve("c.jsonl")), "nothing of the failed append stays");
                LogHealth h = log.health();
                assertFalse(h.writable());
                assertTrue(h.detail().contains("No space left on device") && h.detail().contains(logs.toString()),
                        h.detail());

                Files.delete(filler);
                await(() -> log.health().writable(), "the probe finds space again");
                Event after = log.append(user("c", "after"));
                assertEquals(List.of(before, after), log.tail("c", 10));
            }
        }
    }

    @Test
    void aTinyVolumeGetsSmallSegmentsAndAVolumeGrownLaterIsUsed() throws Exception {
        // 2 MiB cannot hold a 32 MiB segment: the journal makes smaller ones instead of failing every append
        try (Tmpfs fs = Tmpfs.mount(dir.resolve("vol"), 2 * MIB)) {
            Path logs = fs.dir().resolve("logs");
            try (EventLog log = new EventLog(logs)) {
                List<Event> written = new ArrayList<>();
                for (int i = 0; i < 200; i++) {
                    written.add(log.append(user("c", "event " + i + " " + "z".repeat(1000))));
                }
                assertEquals(written, log.tail("c", 1000));
                for (long s : segmentSizes(logs)) {
                    assertTrue(s <= MIB, "a segment takes at most half of what was free: " + s);
                }
                Path filler = fs.fill();
                assertThrows(UncheckedIOException.class, () -> log.append(user("c", "w".repeat(256 * 1024))));
                fs.resize(300 * MIB); // the operator grows the volume
                await(() -> log.health().writable(), "the log sees the new space");
                Event big = log.append(user("c", "v".repeat(256 * 1024)));
                assertEquals(big, log.tail("c", 1).get(0));
                Files.delete(filler);
            }
        }
    }

    @Test
    void theNextSegmentIsMadeSmallerWhenAFullOneNoLongerFits() throws Exception {
        // segments of 4 MiB on a volume where, once logs grow, 4 MiB are no longer free: appends go on across
        // several segment changes instead of failing from the first one that cannot be made
        try (Tmpfs fs = Tmpfs.mount(dir.resolve("vol"), 16 * MIB)) {
            Path logs = fs.dir().resolve("logs");
            Files.write(fs.dir().resolve("ballast"), new byte[6 * (int) MIB]);
            try (EventLog log = new EventLog(logs, 16, 4 * MIB, EventLog.DEFAULT_WRITE_RETRY,
                    SegmentPipeline.SegmentFiles.REAL)) {
                String payload = "p".repeat(2000);
                for (int i = 0; i < 2900; i++) { // ~6 MiB of lines, as much again in journal records
                    log.append(user("c" + (i % 8), payload));
                }
                log.awaitCheckpoints();
                assertTrue(log.checkpoints() >= 2, "segments filled and changed: " + log.checkpoints());
                assertTrue(fs.usable() < 4 * MIB, "a full-size segment no longer fits: " + fs.usable());
                assertTrue(log.health().writable(), log.health().detail());
            }
        }
    }

    @Test
    void aReadOnlyLogDirectoryIsRefusedAtOpenWithItsReason() throws Exception {
        try (Tmpfs fs = Tmpfs.mount(dir.resolve("vol"), MIB)) {
            Path logs = Files.createDirectories(fs.dir().resolve("logs"));
            fs.readOnly();
            DirectoryLockException e = assertThrows(DirectoryLockException.class, () -> new EventLog(logs));
            assertEquals("log directory " + logs + " is not writable: Read-only file system", e.getMessage());
        }
    }
}
