package io.streamingllm.core.log;

import io.streamingllm.core.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;

/**
 * The event log's write-ahead journal: one fdatasync makes a whole batch of appends durable, whatever
 * conversations they belong to. Appenders write their lines to the conversation files themselves (page cache
 * only) and queue a record here; the committer thread takes everything queued and has the {@link JournalWriter}
 * write it with one positional write into the active segment and force it, then completes the waiters.
 *
 * <p>Faults: a write that fails (no space for the next segment, an I/O error) is retried, with the waiters
 * waiting, until {@link WriteFaults}' retry time after the problem began. Then the records still pending fail:
 * their lines are cut from the conversation files first ({@link Rollback}), so what the appenders are told
 * (failed) is what the files hold, and appends are refused while that runs. The next commit tries again from
 * scratch: one outage never stops the journal for good, unless even undoing a write failed
 * ({@link JournalWriter#broken}). The health probe goes through the committer too ({@link #probe}).
 *
 * <p>Thread-safety: the queues and the close and undo states are guarded by {@link #lock} (the committer waits on
 * its condition); the writer is the committer's own, read by {@link #close} only after joining it.
 */
final class Journal {
    static final String DIR = ".journal";
    static final String SEGMENT_SUFFIX = ".seg";
    /**
     * 32 MiB: zero-filling one takes ~30 ms here and happens in the background while the previous one is half
     * used; it holds ~100,000 typical records, so the checkpoint's one fsync per touched conversation file is
     * rare next to the appends; and recovery replays at most a few of them.
     */
    static final long DEFAULT_SEGMENT_SIZE = 32L << 20;
    private static final System.Logger LOG = System.getLogger(EventLog.class.getName());

    /** Forces the given conversations' files (and their directory) before a segment is deleted. */
    interface Checkpoint {
        void force(Set<String> conversationIds) throws IOException;
    }

    /** Cuts each conversation's file back to the given offset: lines whose records failed. */
    interface Rollback {
        void undo(Map<String, Long> offsets);
    }

    /** A record waiting for the committer; {@link #done} completes when it is durable. */
    static final class Pending {
        final byte kind;
        final String conversationId;
        final byte[] id;
        final long offset;
        final byte[] bytes;
        final CompletableFuture<Void> done = new CompletableFuture<>();

        Pending(byte kind, String conversationId, long offset, byte[] bytes) {
            this.kind = kind;
            this.conversationId = conversationId;
            this.id = conversationId.getBytes(StandardCharsets.US_ASCII);
            this.offset = offset;
            this.bytes = bytes;
        }

        int size() {
            return JournalRecord.size(id.length, bytes.length);
        }
    }

    private final Path dir;
    private final long segmentSize;
    private final Checkpointer checkpointer;
    private final Rollback rollback;
    private final WriteFaults faults;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition queuedOrClosed = lock.newCondition();
    private ArrayList<Pending> queued = new ArrayList<>(); // guarded by lock
    private final List<CompletableFuture<Void>> probes = new ArrayList<>(); // guarded by lock
    private boolean closed; // guarded by lock
    private boolean halted; // guarded by lock
    private String undoing; // guarded by lock: why pending records are being failed, while they are
    private LongConsumer fsyncListener = nanos -> { }; // guarded by lock

    private final Thread committer;
    private final JournalWriter writer; // committer only

    Journal(Path dir, long segmentSize, long firstSeq, Checkpoint checkpoint, Rollback rollback, WriteFaults faults,
            SegmentPipeline.SegmentFiles files) {
        this.dir = dir;
        this.segmentSize = segmentSize;
        this.rollback = rollback;
        this.faults = faults;
        this.checkpointer = new Checkpointer(dir, checkpoint, faults);
        this.writer = new JournalWriter(new SegmentPipeline(dir, segmentSize, files, faults), checkpointer, firstSeq);
        committer = Thread.ofPlatform().daemon().name("event-log-committer").start(this::runCommitter);
    }

    void onFsync(LongConsumer listener) {
        lock.lock();
        try {
            fsyncListener = listener;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Queues the record of {@code bytes} written at {@code offset} of the conversation's file; the future
     * completes when the record is durable. Call it holding the conversation's lock, so that the journal's order
     * of a conversation's records is their order in its file.
     */
    CompletableFuture<Void> append(String conversationId, long offset, byte[] bytes) {
        return enqueue(new Pending(JournalRecord.LINES, conversationId, offset, bytes));
    }

    /** Queues the marker that the conversation's file is gone (archived): its earlier records are obsolete. */
    CompletableFuture<Void> archived(String conversationId) {
        return enqueue(new Pending(JournalRecord.ARCHIVED, conversationId, 0, new byte[0]));
    }

    /**
     * Completes when the committer finds that a record could be written now ({@link JournalWriter#probe}), or
     * with why not. Clears or sets the journal's problem in {@link WriteFaults}.
     */
    CompletableFuture<Void> probe() {
        CompletableFuture<Void> f = new CompletableFuture<>();
        lock.lock();
        try {
            if (closed) {
                f.completeExceptionally(new IOException("the event log is closed"));
                return f;
            }
            probes.add(f);
            queuedOrClosed.signal();
        } finally {
            lock.unlock();
        }
        return f;
    }

    private CompletableFuture<Void> enqueue(Pending p) {
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("event log journal " + dir + " is closed");
            }
            if (undoing != null) {
                throw new UncheckedIOException(new IOException("the event log journal is failing the appends "
                        + "pending when it could not write: " + undoing));
            }
            IOException broken = writer.broken();
            if (broken != null) {
                throw new UncheckedIOException(broken);
            }
            queued.add(p);
            if (queued.size() == 1) {
                queuedOrClosed.signal();
            }
        } finally {
            lock.unlock();
        }
        return p.done;
    }

    /** Commits what is queued, checkpoints every segment and deletes the journal. */
    void close() {
        stop(false);
    }

    /** Commits what is queued and stops, leaving the journal as a crash would (tests). */
    void halt() {
        stop(true);
    }

    private void stop(boolean halt) {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            halted = halt;
            queuedOrClosed.signal();
        } finally {
            lock.unlock();
        }
        faults.close(); // a commit retrying gives up: what is queued is committed once, or fails
        if (halt) {
            checkpointer.halt();
        }
        boolean interrupted = false;
        while (committer.isAlive()) {
            try {
                committer.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        boolean checkpointed = checkpointer.stop();
        if (halt) {
            writer.halt();
            return;
        }
        writer.closeSpare();
        if (checkpointed) {
            try {
                Files.deleteIfExists(dir);
                AtomicFiles.syncDirectory(dir.getParent());
            } catch (IOException e) {
                // not empty: a failed checkpoint left a segment for the next recovery
            }
        }
    }

    /** Waits until every sealed segment is checkpointed (tests). */
    void awaitCheckpoints() throws InterruptedException {
        checkpointer.awaitCheckpoints();
    }

    /** Segments checkpointed so far (tests). */
    long checkpoints() {
        return checkpointer.checkpoints();
    }

    // ---- committer ------------------------------------------------------------------------------------------

    private void runCommitter() {
        ArrayList<Pending> batch = new ArrayList<>();
        List<CompletableFuture<Void>> probing = new ArrayList<>();
        boolean halting;
        while (true) {
            LongConsumer listener;
            lock.lock();
            try {
                while (queued.isEmpty() && probes.isEmpty() && !closed) {
                    queuedOrClosed.awaitUninterruptibly();
                }
                if (queued.isEmpty() && probes.isEmpty()) {
                    halting = halted;
                    break; // closed and drained
                }
                ArrayList<Pending> taken = queued;
                queued = batch;
                batch = taken;
                probing.addAll(probes);
                probes.clear();
                listener = fsyncListener;
            } finally {
                lock.unlock();
            }
            commit(batch, listener);
            batch.clear();
            if (!probing.isEmpty()) {
                probe(probing);
                probing.clear();
            }
        }
        if (!halting) {
            writer.sealActive();
        }
    }

    /** Commits a drained batch in chunks that fit a segment (a record larger than one gets a segment of its own). */
    private void commit(List<Pending> batch, LongConsumer listener) {
        for (int from = 0, to; from < batch.size(); from = to) {
            long bytes = batch.get(from).size();
            for (to = from + 1; to < batch.size() && bytes + batch.get(to).size() <= segmentSize; to++) {
                bytes += batch.get(to).size();
            }
            List<Pending> chunk = batch.subList(from, to);
            long start = System.nanoTime();
            IOException failed = writeRetrying(chunk);
            if (failed != null) {
                fail(batch.subList(from, batch.size()), failed);
                return;
            }
            listener.accept(System.nanoTime() - start);
            for (Pending p : chunk) {
                p.done.complete(null);
            }
        }
    }

    /** Writes the chunk, retrying while {@link WriteFaults} allows; null when written, else the last failure. */
    private IOException writeRetrying(List<Pending> chunk) {
        for (int attempt = 1; ; attempt++) {
            try {
                writer.write(chunk);
                faults.ok(WriteFaults.Source.JOURNAL);
                return null;
            } catch (IOException | RuntimeException e) {
                boolean first = !faults.failing(WriteFaults.Source.JOURNAL);
                String reason = WriteFaults.reason(e);
                faults.failed(WriteFaults.Source.JOURNAL, "the event log journal cannot write: " + reason);
                if (first) {
                    LOG.log(System.Logger.Level.WARNING, "event log journal {0}: {1}; appends wait and retry", dir,
                            reason);
                }
                if (writer.broken() != null || !faults.awaitRetry(WriteFaults.Source.JOURNAL, attempt)) {
                    return e instanceof IOException io ? io : new IOException(reason, e);
                }
            }
        }
    }

    /**
     * Fails {@code records} and everything queued after them, once their lines are cut from the conversation
     * files. Appends are refused meanwhile, so that nothing is written on top of lines about to be cut.
     */
    private void fail(List<Pending> records, IOException cause) {
        List<Pending> failed = new ArrayList<>(records);
        lock.lock();
        try {
            undoing = WriteFaults.reason(cause);
            failed.addAll(queued);
            queued.clear();
        } finally {
            lock.unlock();
        }
        LOG.log(System.Logger.Level.ERROR, "event log journal {0}: {1}; {2} appends fail and their lines are cut "
                + "from the logs", dir, WriteFaults.reason(cause), failed.size());
        // markers first: an archive waits for its marker holding the conversation's lock, which the cut takes
        Map<String, Long> offsets = new HashMap<>();
        for (Pending p : failed) {
            if (p.kind == JournalRecord.LINES) {
                offsets.merge(p.conversationId, p.offset, Math::min);
            } else {
                p.done.completeExceptionally(cause);
            }
        }
        try {
            rollback.undo(offsets);
        } finally {
            lock.lock();
            try {
                undoing = null; // the cuts are done: appends may write again before the failed ones hear of it
            } finally {
                lock.unlock();
            }
            for (Pending p : failed) {
                p.done.completeExceptionally(cause);
            }
        }
    }

    private void probe(List<CompletableFuture<Void>> waiting) {
        try {
            writer.probe();
            faults.ok(WriteFaults.Source.JOURNAL);
            waiting.forEach(f -> f.complete(null));
        } catch (IOException | RuntimeException e) {
            faults.failed(WriteFaults.Source.JOURNAL, "the event log journal cannot write: " + WriteFaults.reason(e));
            waiting.forEach(f -> f.completeExceptionally(e));
        }
    }
}
