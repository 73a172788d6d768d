package io.streamingllm.core.log;

import io.streamingllm.core.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;

/**
 * The event log's write-ahead journal: one fdatasync makes a whole batch of appends durable, whatever
 * conversations they belong to. Appenders write their lines to the conversation files themselves (page cache
 * only) and queue a record here; the committer thread takes everything queued, encodes it ({@link RecordEncoder}),
 * writes it with one positional write into the active segment ({@link SegmentPipeline}) and forces it with
 * {@code force(false)}, then completes the waiters. A full segment is sealed and handed to the
 * {@link Checkpointer}.
 *
 * <p>Thread-safety: the queue and the close and failure states are guarded by {@link #lock} (the committer waits
 * on its condition); the segments, the encoder and the sequence are the committer's own, read by {@link #close}
 * only after joining it.
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

    /** A record waiting for the committer; {@link #done} completes when it is durable. */
    private static final class Pending {
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

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition queuedOrClosed = lock.newCondition();
    private ArrayList<Pending> queued = new ArrayList<>(); // guarded by lock
    private boolean closed; // guarded by lock
    private boolean halted; // guarded by lock
    private IOException failure; // guarded by lock; written by the committer, which alone reads it without
    private LongConsumer fsyncListener = nanos -> { }; // guarded by lock

    private final Thread committer;
    private final SegmentPipeline segments; // committer only
    private final RecordEncoder encoder = new RecordEncoder(); // committer only
    private long nextSeq; // committer only
    private JournalSegment active; // committer only
    private ByteBuffer buffer = ByteBuffer.allocate(1 << 16); // committer only

    Journal(Path dir, long segmentSize, long firstSeq, Checkpoint checkpoint) {
        this.dir = dir;
        this.segmentSize = segmentSize;
        this.nextSeq = firstSeq;
        this.segments = new SegmentPipeline(dir, segmentSize);
        this.checkpointer = new Checkpointer(dir, checkpoint);
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

    private CompletableFuture<Void> enqueue(Pending p) {
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("event log journal " + dir + " is closed");
            }
            if (failure != null) {
                throw new UncheckedIOException("event log journal " + dir + " failed earlier, reopen the log: "
                        + failure.getMessage(), failure);
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
            if (active != null) {
                active.closeQuietly();
            }
            segments.close(true);
            return;
        }
        segments.close(false);
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
        boolean halting;
        while (true) {
            LongConsumer listener;
            lock.lock();
            try {
                while (queued.isEmpty() && !closed) {
                    queuedOrClosed.awaitUninterruptibly();
                }
                if (queued.isEmpty()) {
                    halting = halted;
                    break; // closed and drained
                }
                ArrayList<Pending> taken = queued;
                queued = batch;
                batch = taken;
                listener = fsyncListener;
            } finally {
                lock.unlock();
            }
            commit(batch, listener);
            batch.clear();
        }
        if (!halting && active != null) {
            checkpointer.seal(active);
            active = null;
        }
    }

    /** Commits a drained batch in chunks that fit a segment (a record larger than one gets a segment of its own). */
    private void commit(List<Pending> batch, LongConsumer listener) {
        for (int from = 0, to; from < batch.size(); from = to) {
            long bytes = batch.get(from).size();
            for (to = from + 1; to < batch.size() && bytes + batch.get(to).size() <= segmentSize; to++) {
                bytes += batch.get(to).size();
            }
            commitChunk(batch.subList(from, to), listener);
        }
    }

    private void commitChunk(List<Pending> chunk, LongConsumer listener) {
        IOException failed = failure;
        if (failed == null) {
            try {
                long start = System.nanoTime();
                write(chunk);
                listener.accept(System.nanoTime() - start);
            } catch (IOException | RuntimeException e) {
                failed = e instanceof IOException io ? io : new IOException(e.toString(), e);
                fail(failed);
                LOG.log(System.Logger.Level.ERROR, "event log journal " + dir + " failed; appends are refused until "
                        + "the log is reopened", e);
            }
        }
        for (Pending p : chunk) {
            if (failed == null) {
                p.done.complete(null);
            } else {
                p.done.completeExceptionally(failed);
            }
        }
    }

    private void fail(IOException e) {
        lock.lock();
        try {
            failure = e;
        } finally {
            lock.unlock();
        }
    }

    /** Encodes the chunk and writes it at the active segment's position with one write and one force. */
    private void write(List<Pending> chunk) throws IOException {
        int total = 0;
        for (Pending p : chunk) {
            total += p.size(); // at most one segment, or one record
        }
        JournalSegment segment = segmentFor(total);
        if (buffer.capacity() < total) {
            buffer = ByteBuffer.allocate(Math.max(total, buffer.capacity() * 2));
        }
        buffer.clear();
        for (Pending p : chunk) {
            encoder.encode(buffer, nextSeq++, p.offset, p.kind, p.id, p.bytes);
            if (p.kind == JournalRecord.LINES) {
                segment.conversations.add(p.conversationId);
            }
        }
        buffer.flip();
        ChannelIo.writeFully(segment.channel, buffer, segment.position);
        segment.channel.force(false);
        segment.position += total;
        if (segment.position * 2 >= segment.size) {
            segments.prepareNext(); // ahead of need: the next segment is ready before this one fills
        }
    }

    private JournalSegment segmentFor(long bytes) throws IOException {
        if (active != null && active.position + bytes <= active.size) {
            return active;
        }
        if (active != null) {
            checkpointer.seal(active);
            active = null;
        }
        active = segments.next(bytes);
        return active;
    }
}
