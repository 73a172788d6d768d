package io.streamingllm.core.log;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The hand-off of sealed segments to the checkpoint thread: order, deletion, failure, halt, back-pressure. */
@Timeout(60)
class CheckpointerTest {
    @TempDir
    Path dir;
    private final List<JournalSegment> made = new ArrayList<>();
    private final List<Set<String>> forced = Collections.synchronizedList(new ArrayList<>());

    @AfterEach
    void closeSegments() {
        made.forEach(JournalSegment::closeQuietly);
    }

    private JournalSegment segment(String... conversations) throws IOException {
        Path path = dir.resolve(String.format("%016x", made.size()) + Journal.SEGMENT_SUFFIX);
        FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        JournalSegment s = new JournalSegment(path, ch, 4096);
        s.conversations.addAll(List.of(conversations));
        made.add(s);
        return s;
    }

    @Test
    void sealedSegmentsAreCheckpointedInOrderThenDeleted() throws Exception {
        Checkpointer checkpointer = new Checkpointer(dir, forced::add);
        JournalSegment a = segment("x", "y");
        JournalSegment b = segment("z");
        checkpointer.seal(a);
        checkpointer.seal(b);
        checkpointer.awaitCheckpoints();
        assertEquals(2, checkpointer.checkpoints());
        assertEquals(List.of(Set.of("x", "y"), Set.of("z")), forced, "the files each segment wrote to, in order");
        assertFalse(Files.exists(a.path));
        assertFalse(Files.exists(b.path));
        assertFalse(a.channel.isOpen());
        assertTrue(checkpointer.stop(), "every checkpoint succeeded");
    }

    @Test
    void stopCheckpointsWhatIsStillSealed() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        Checkpointer checkpointer = new Checkpointer(dir, ids -> {
            awaitUninterruptibly(release);
            forced.add(ids);
        });
        JournalSegment a = segment("x");
        JournalSegment b = segment("y");
        checkpointer.seal(a);
        checkpointer.seal(b);
        boolean[] allCheckpointed = new boolean[1];
        Thread stopping = Thread.ofPlatform().start(() -> allCheckpointed[0] = checkpointer.stop());
        awaitBlocked(stopping); // stop asked for while a is being checkpointed and b waits
        release.countDown();
        stopping.join();
        assertTrue(allCheckpointed[0]);
        assertEquals(List.of(Set.of("x"), Set.of("y")), forced);
        assertFalse(Files.exists(b.path));
    }

    @Test
    void afterAFailedCheckpointEverySegmentIsKeptForReplay() throws Exception {
        Checkpointer checkpointer = new Checkpointer(dir, ids -> {
            forced.add(ids);
            if (ids.contains("bad")) {
                throw new IOException("disk says no");
            }
        });
        JournalSegment ok = segment("x");
        JournalSegment bad = segment("bad");
        JournalSegment after = segment("y");
        checkpointer.seal(ok);
        checkpointer.seal(bad);
        checkpointer.seal(after);
        checkpointer.awaitCheckpoints();
        assertEquals(3, forced.size());
        assertFalse(Files.exists(ok.path));
        assertTrue(Files.exists(bad.path), "the failed one is kept");
        assertTrue(Files.exists(after.path), "a later one must not go before it");
        assertFalse(after.channel.isOpen());
        assertFalse(checkpointer.stop());
    }

    @Test
    void haltedSegmentsAreLeftAsACrashWould() throws Exception {
        CountDownLatch inFirst = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Checkpointer checkpointer = new Checkpointer(dir, ids -> {
            inFirst.countDown();
            awaitUninterruptibly(release);
            forced.add(ids);
        });
        JournalSegment first = segment("x");
        JournalSegment second = segment("y");
        checkpointer.seal(first);
        assertTrue(inFirst.await(30, TimeUnit.SECONDS));
        checkpointer.seal(second);
        checkpointer.halt();
        release.countDown();
        assertTrue(checkpointer.stop());
        assertEquals(List.of(Set.of("x")), forced, "the checkpoint under way finishes; the next is skipped");
        assertTrue(Files.exists(second.path));
        assertEquals(2, checkpointer.checkpoints(), "skipped segments count as done for awaitCheckpoints");
    }

    @Test
    void theCommitterWaitsWhileFiveSealedSegmentsWaitForTheirCheckpoint() throws Exception {
        Semaphore checkpoints = new Semaphore(0);
        CountDownLatch inFirst = new CountDownLatch(1);
        Checkpointer checkpointer = new Checkpointer(dir, ids -> {
            inFirst.countDown();
            checkpoints.acquireUninterruptibly();
            forced.add(ids);
        });
        checkpointer.seal(segment("0"));
        assertTrue(inFirst.await(30, TimeUnit.SECONDS)); // taken: the first is being checkpointed, not waiting
        for (int i = 1; i <= 5; i++) {
            checkpointer.seal(segment(Integer.toString(i))); // five wait: none of these blocks
        }
        JournalSegment sixth = segment("6");
        Thread committer = Thread.ofPlatform().start(() -> checkpointer.seal(sixth));
        awaitBlocked(committer);
        assertTrue(committer.isAlive(), "a sixth waiting segment blocks the committer");
        checkpoints.release(); // the first checkpoint ends, the second is taken: room for the sixth
        committer.join();
        checkpoints.release(6);
        checkpointer.awaitCheckpoints();
        assertEquals(7, forced.size());
        assertTrue(checkpointer.stop());
    }

    /** Returns once the thread waits (or has ended, which the caller then finds out). */
    private static void awaitBlocked(Thread t) {
        while (t.isAlive() && t.getState() != Thread.State.WAITING) {
            Thread.onSpinWait();
        }
    }

    private static void awaitUninterruptibly(CountDownLatch latch) {
        boolean done = false;
        while (!done) {
            try {
                done = latch.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
