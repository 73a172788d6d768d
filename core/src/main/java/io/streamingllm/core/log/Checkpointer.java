package io.streamingllm.core.log;

import io.streamingllm.core.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The journal's checkpoint thread: takes the segments the committer seals, forces the conversation files each
 * one's records wrote to ({@link Journal.Checkpoint}) and deletes it. At most {@value #MAX_SEALED} sealed segments
 * wait; beyond that {@link #seal} blocks the committer (a bounded journal, a bounded recovery). After a failed
 * checkpoint every later segment is kept too, for the next open to replay. Thread-safe: shared state is guarded by
 * one lock and waited for on its conditions; {@code keepSegments} is the checkpoint thread's own.
 */
final class Checkpointer {
    private static final int MAX_SEALED = 5;
    private static final System.Logger LOG = System.getLogger(EventLog.class.getName());

    private final Path dir;
    private final Journal.Checkpoint checkpoint;
    private final WriteFaults faults;
    private final Thread thread;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition sealedOrStopping = lock.newCondition();
    private final Condition taken = lock.newCondition();
    private final Condition checkpointed = lock.newCondition();
    private final ArrayDeque<JournalSegment> sealed = new ArrayDeque<>(); // guarded by lock
    private boolean stopping; // guarded by lock
    private boolean halted; // guarded by lock
    private long sealedCount; // guarded by lock
    private long checkpointedCount; // guarded by lock
    private boolean keepSegments; // checkpoint thread only; read by others after joining it

    Checkpointer(Path dir, Journal.Checkpoint checkpoint) {
        this(dir, checkpoint, new WriteFaults(Duration.ZERO));
    }

    /** {@code faults} gets a warning when a checkpoint fails (the journal then grows until the next start). */
    Checkpointer(Path dir, Journal.Checkpoint checkpoint, WriteFaults faults) {
        this.dir = dir;
        this.checkpoint = checkpoint;
        this.faults = faults;
        thread = Thread.ofPlatform().daemon().name("event-log-checkpoint").start(this::run);
    }

    /** Hands over a full segment (the committer); waits while {@value #MAX_SEALED} wait for theirs. */
    void seal(JournalSegment segment) {
        lock.lock();
        try {
            while (sealed.size() >= MAX_SEALED) {
                taken.awaitUninterruptibly();
            }
            sealed.addLast(segment);
            sealedCount++;
            sealedOrStopping.signal();
        } finally {
            lock.unlock();
        }
    }

    /** From now on segments are left as a crash would leave them, not checkpointed (tests). */
    void halt() {
        lock.lock();
        try {
            halted = true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Checkpoints what is sealed (unless halted) and stops the thread; call it after the last {@link #seal}. True
     * when every checkpoint succeeded, i.e. no segment was kept.
     */
    boolean stop() {
        lock.lock();
        try {
            stopping = true;
            sealedOrStopping.signal();
        } finally {
            lock.unlock();
        }
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return !keepSegments;
    }

    /** Waits until every sealed segment is checkpointed (tests). */
    void awaitCheckpoints() throws InterruptedException {
        lock.lock();
        try {
            while (checkpointedCount < sealedCount) {
                checkpointed.await();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Segments checkpointed so far (tests). */
    long checkpoints() {
        lock.lock();
        try {
            return checkpointedCount;
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        while (true) {
            JournalSegment segment;
            boolean skip;
            lock.lock();
            try {
                while (sealed.isEmpty() && !stopping) {
                    sealedOrStopping.awaitUninterruptibly();
                }
                segment = sealed.pollFirst();
                if (segment == null) {
                    return; // stopping, and nothing more is sealed
                }
                taken.signal();
                skip = halted;
            } finally {
                lock.unlock();
            }
            try {
                if (!skip) {
                    checkpoint(segment);
                }
            } finally {
                lock.lock();
                try {
                    checkpointedCount++;
                    checkpointed.signalAll();
                } finally {
                    lock.unlock();
                }
            }
        }
    }

    private void checkpoint(JournalSegment segment) {
        try {
            checkpoint.force(segment.conversations);
            segment.closeQuietly();
            if (!keepSegments) {
                Files.delete(segment.path);
                AtomicFiles.syncDirectory(dir);
            }
        } catch (IOException | RuntimeException e) {
            keepSegments = true;
            segment.closeQuietly();
            faults.checkpointWarning("a journal checkpoint failed (" + WriteFaults.reason(e) + "): journal segments "
                    + "are kept from now on and replayed at the next start; restart to reclaim their space");
            LOG.log(System.Logger.Level.ERROR, "event log checkpoint of " + segment.path + " failed; the journal is "
                    + "kept and replayed on the next open", e);
        }
    }
}
