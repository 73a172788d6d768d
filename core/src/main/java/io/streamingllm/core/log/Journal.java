package io.streamingllm.core.log;

import io.streamingllm.core.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * The event log's write-ahead journal: one fdatasync makes a whole batch of appends durable, whatever
 * conversations they belong to. Appenders write their lines to the conversation files themselves (page cache
 * only) and queue a record here; one committer thread writes everything queued with one positional write into
 * the active segment and forces it with {@code force(false)}, then completes the waiters. Segments are
 * preallocated (zero-filled and forced once), so that fdatasync overwrites allocated blocks and needs no
 * file-system metadata commit.
 *
 * <p>A full segment is sealed and checkpointed by a background thread: every conversation file its records
 * wrote to is forced, then the segment is deleted. At most {@value #MAX_SEALED} sealed segments wait for their
 * checkpoint; beyond that the committer waits (bounded journal, bounded recovery).
 *
 * <p>Record: {@code int length, int crc32c, long seq, long offset, byte kind, byte idLength, id, bytes}; length
 * and CRC cover everything after the CRC. Sequence numbers are consecutive within a segment and increase across
 * segments; reading a segment stops at the first record whose length, CRC or sequence is not valid (zeros of
 * the preallocation, a torn write).
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
    static final byte LINES = 1;
    /** The conversation's file was archived: earlier records of it must not be replayed. */
    static final byte ARCHIVED = 2;
    private static final int HEADER = 4 + 4;
    private static final int FIXED_BODY = 8 + 8 + 1 + 1;
    private static final int MAX_SEALED = 4;
    private static final int ZERO_CHUNK = 1 << 20;
    private static final System.Logger LOG = System.getLogger(EventLog.class.getName());

    /** Forces the given conversations' files (and their directory) before a segment is deleted. */
    interface Checkpoint {
        void force(Set<String> conversationIds) throws IOException;
    }

    /** A valid record found on recovery; its bytes stay in the segment until {@link #read}. */
    record Entry(long seq, byte kind, String conversationId, long offset, Path segment, long bytesPosition,
                 int bytesLength) {
    }

    /** What {@link #recover} found: the valid records in sequence order and every segment file present. */
    record Recovered(List<Entry> entries, List<Path> segments, long nextSeq) {
    }

    private static final class Pending {
        final byte kind;
        final byte[] id;
        final long offset;
        final byte[] bytes;
        final CompletableFuture<Void> done = new CompletableFuture<>();

        Pending(byte kind, String id, long offset, byte[] bytes) {
            this.kind = kind;
            this.id = id.getBytes(StandardCharsets.US_ASCII);
            this.offset = offset;
            this.bytes = bytes;
        }

        int size() {
            return HEADER + FIXED_BODY + id.length + bytes.length;
        }
    }

    private static final class Segment {
        final Path path;
        final FileChannel channel;
        final long size;
        long position;
        final Set<String> conversations = new HashSet<>();

        Segment(Path path, FileChannel channel, long size) {
            this.path = path;
            this.channel = channel;
            this.size = size;
        }
    }

    private static final Segment STOP = new Segment(null, null, 0);

    private final Path dir;
    private final long segmentSize;
    private final Checkpoint checkpoint;
    private long nextSeq; // committer only
    private long nextSegmentNumber; // committer only

    private final ReentrantLock queueLock = new ReentrantLock();
    private final Condition queuedOrClosed = queueLock.newCondition();
    private ArrayList<Pending> queued = new ArrayList<>(); // guarded by queueLock
    private boolean closed; // guarded by queueLock
    private volatile boolean halted;
    private volatile IOException failure;

    private final Thread committer;
    private Segment active; // committer only
    private CompletableFuture<Segment> spare; // committer only
    private ByteBuffer buffer = ByteBuffer.allocate(1 << 16); // committer only
    private final CRC32C crc = new CRC32C(); // committer only

    private final BlockingQueue<Segment> sealed = new ArrayBlockingQueue<>(MAX_SEALED + 1);
    private final Thread checkpointer;
    private final Object checkpointProgress = new Object();
    private long sealedCount; // guarded by checkpointProgress
    private long checkpointedCount; // guarded by checkpointProgress
    private volatile boolean keepSegments; // a checkpoint failed: later segments must not go before it
    private volatile LongConsumer fsyncListener = nanos -> { };

    Journal(Path dir, long segmentSize, long firstSeq, Checkpoint checkpoint) {
        this.dir = dir;
        this.segmentSize = segmentSize;
        this.nextSeq = firstSeq;
        this.checkpoint = checkpoint;
        this.nextSegmentNumber = System.currentTimeMillis();
        committer = Thread.ofPlatform().daemon().name("event-log-committer").unstarted(this::runCommitter);
        checkpointer = Thread.ofPlatform().daemon().name("event-log-checkpoint").unstarted(this::runCheckpointer);
        committer.start();
        checkpointer.start();
    }

    void onFsync(LongConsumer listener) {
        this.fsyncListener = listener;
    }

    /**
     * Queues the record of {@code bytes} written at {@code offset} of the conversation's file; the future
     * completes when the record is durable. Call it holding the conversation's lock, so that the journal's order
     * of a conversation's records is their order in its file.
     */
    CompletableFuture<Void> append(String conversationId, long offset, byte[] bytes) {
        return enqueue(new Pending(LINES, conversationId, offset, bytes));
    }

    /** Queues the marker that the conversation's file is gone (archived): its earlier records are obsolete. */
    CompletableFuture<Void> archived(String conversationId) {
        return enqueue(new Pending(ARCHIVED, conversationId, 0, new byte[0]));
    }

    private CompletableFuture<Void> enqueue(Pending p) {
        queueLock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("event log journal " + dir + " is closed");
            }
            IOException failed = failure;
            if (failed != null) {
                throw new UncheckedIOException("event log journal " + dir + " failed earlier, reopen the log: "
                        + failed.getMessage(), failed);
            }
            queued.add(p);
            if (queued.size() == 1) {
                queuedOrClosed.signal();
            }
        } finally {
            queueLock.unlock();
        }
        return p.done;
    }

    boolean isClosed() {
        queueLock.lock();
        try {
            return closed;
        } finally {
            queueLock.unlock();
        }
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
        queueLock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            halted = halt;
            queuedOrClosed.signal();
        } finally {
            queueLock.unlock();
        }
        joinUninterruptibly(committer);
        joinUninterruptibly(checkpointer);
        if (halt) {
            closeQuietly(active);
            spareSegment().ifPresent(Journal::closeQuietly);
            return;
        }
        spareSegment().ifPresent(s -> {
            closeQuietly(s);
            deleteQuietly(s.path);
        });
        if (!keepSegments) {
            try {
                Files.deleteIfExists(dir);
                AtomicFiles.syncDirectory(dir.getParent());
            } catch (IOException e) {
                // not empty: a failed checkpoint left a segment for the next recovery
            }
        }
    }

    private java.util.Optional<Segment> spareSegment() {
        if (spare == null) {
            return java.util.Optional.empty();
        }
        try {
            return java.util.Optional.of(spare.join());
        } catch (RuntimeException e) {
            return java.util.Optional.empty();
        }
    }

    /** Waits until every sealed segment is checkpointed (tests). */
    void awaitCheckpoints() throws InterruptedException {
        synchronized (checkpointProgress) {
            while (checkpointedCount < sealedCount) {
                checkpointProgress.wait();
            }
        }
    }

    long checkpoints() {
        synchronized (checkpointProgress) {
            return checkpointedCount;
        }
    }

    // ---- committer ------------------------------------------------------------------------------------------

    private void runCommitter() {
        ArrayList<Pending> batch = new ArrayList<>();
        while (true) {
            queueLock.lock();
            try {
                while (queued.isEmpty() && !closed) {
                    queuedOrClosed.awaitUninterruptibly();
                }
                if (queued.isEmpty()) {
                    break; // closed and drained
                }
                ArrayList<Pending> taken = queued;
                queued = batch;
                batch = taken;
            } finally {
                queueLock.unlock();
            }
            commit(batch);
            batch.clear();
        }
        if (!halted && active != null) {
            seal(active);
            active = null;
        }
        putUninterruptibly(STOP);
    }

    /** Commits a drained batch in chunks that fit a segment (a record larger than one gets a segment of its own). */
    private void commit(List<Pending> batch) {
        for (int from = 0, to; from < batch.size(); from = to) {
            long bytes = batch.get(from).size();
            for (to = from + 1; to < batch.size() && bytes + batch.get(to).size() <= segmentSize; to++) {
                bytes += batch.get(to).size();
            }
            commitChunk(batch.subList(from, to));
        }
    }

    private void commitChunk(List<Pending> batch) {
        IOException failed = failure;
        if (failed == null) {
            try {
                long start = System.nanoTime();
                write(batch);
                fsyncListener.accept(System.nanoTime() - start);
            } catch (IOException | RuntimeException e) {
                failed = e instanceof IOException io ? io : new IOException(e.toString(), e);
                failure = failed;
                LOG.log(System.Logger.Level.ERROR, "event log journal " + dir + " failed; appends are refused until "
                        + "the log is reopened", e);
            }
        }
        for (Pending p : batch) {
            if (failed == null) {
                p.done.complete(null);
            } else {
                p.done.completeExceptionally(failed);
            }
        }
    }

    private void write(List<Pending> batch) throws IOException {
        int total = 0;
        for (Pending p : batch) {
            total += p.size(); // at most one segment, or one record
        }
        Segment segment = segmentFor(total);
        if (buffer.capacity() < total) {
            buffer = ByteBuffer.allocate(Math.max(total, buffer.capacity() * 2));
        }
        buffer.clear();
        byte[] array = buffer.array();
        for (Pending p : batch) {
            int start = buffer.position();
            buffer.putInt(p.size() - HEADER).putInt(0).putLong(nextSeq++).putLong(p.offset).put(p.kind)
                    .put((byte) p.id.length).put(p.id).put(p.bytes);
            crc.reset();
            crc.update(array, start + HEADER, p.size() - HEADER);
            buffer.putInt(start + 4, (int) crc.getValue());
            if (p.kind == LINES) {
                segment.conversations.add(new String(p.id, StandardCharsets.US_ASCII));
            }
        }
        buffer.flip();
        while (buffer.hasRemaining()) {
            segment.channel.write(buffer, segment.position + buffer.position());
        }
        segment.channel.force(false);
        segment.position += total;
        if (spare == null && segment.position * 2 >= segment.size) {
            spare = prepareAsync(segmentSize); // ahead of need: the next segment is ready before this one fills
        }
    }

    private Segment segmentFor(long bytes) throws IOException {
        if (active != null && active.position + bytes <= active.size) {
            return active;
        }
        if (active != null) {
            seal(active);
            active = null;
        }
        if (bytes > segmentSize) {
            active = prepare(bytes); // one oversized batch gets a segment of its own
        } else {
            if (spare == null) {
                spare = prepareAsync(segmentSize);
            }
            try {
                active = spare.join();
            } catch (java.util.concurrent.CompletionException e) {
                throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
            } finally {
                spare = null;
            }
        }
        return active;
    }

    private CompletableFuture<Segment> prepareAsync(long size) {
        CompletableFuture<Segment> f = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("event-log-preallocate").start(() -> {
            try {
                f.complete(prepare(size));
            } catch (IOException | RuntimeException e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    /** A new segment file, zero-filled and forced (data, size and directory entry). */
    private Segment prepare(long size) throws IOException {
        Files.createDirectories(dir);
        Path path;
        synchronized (this) {
            path = dir.resolve(String.format("%016x", nextSegmentNumber++) + SEGMENT_SUFFIX);
        }
        FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        try {
            ByteBuffer zeros = ByteBuffer.allocateDirect((int) Math.min(ZERO_CHUNK, size));
            for (long at = 0; at < size; ) {
                zeros.clear().limit((int) Math.min(zeros.capacity(), size - at));
                at += ch.write(zeros, at);
            }
            ch.force(true);
        } catch (IOException | RuntimeException e) {
            closeQuietly(ch);
            deleteQuietly(path);
            throw e;
        }
        AtomicFiles.syncDirectory(dir);
        AtomicFiles.syncDirectory(dir.getParent());
        return new Segment(path, ch, size);
    }

    private void seal(Segment segment) {
        synchronized (checkpointProgress) {
            sealedCount++;
        }
        putUninterruptibly(segment);
    }

    private void putUninterruptibly(Segment segment) {
        boolean interrupted = false;
        while (true) {
            try {
                sealed.put(segment); // blocks while MAX_SEALED wait: the checkpoint must keep up
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- checkpoint -----------------------------------------------------------------------------------------

    private void runCheckpointer() {
        while (true) {
            Segment segment;
            try {
                segment = sealed.take();
            } catch (InterruptedException e) {
                continue; // only the committer's STOP ends the checkpointer
            }
            if (segment == STOP) {
                return;
            }
            try {
                if (!halted) {
                    checkpoint(segment);
                }
            } finally {
                synchronized (checkpointProgress) {
                    checkpointedCount++;
                    checkpointProgress.notifyAll();
                }
            }
        }
    }

    private void checkpoint(Segment segment) {
        try {
            checkpoint.force(segment.conversations);
            closeQuietly(segment);
            if (!keepSegments) {
                Files.delete(segment.path);
                AtomicFiles.syncDirectory(dir);
            }
        } catch (IOException | RuntimeException e) {
            keepSegments = true;
            closeQuietly(segment);
            LOG.log(System.Logger.Level.ERROR, "event log checkpoint of " + segment.path + " failed; the journal is "
                    + "kept and replayed on the next open", e);
        }
    }

    // ---- recovery -------------------------------------------------------------------------------------------

    /** Reads every segment under {@code dir}: the valid records of each, all of them in sequence order. */
    static Recovered recover(Path dir) throws IOException {
        List<Path> segments = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.filter(p -> p.getFileName().toString().endsWith(SEGMENT_SUFFIX)).forEach(segments::add);
        } catch (NoSuchFileException e) {
            return new Recovered(List.of(), List.of(), 1);
        }
        List<List<Entry>> perSegment = new ArrayList<>();
        for (Path segment : segments) {
            List<Entry> entries = readSegment(segment);
            if (!entries.isEmpty()) {
                perSegment.add(entries);
            }
        }
        perSegment.sort(Comparator.comparingLong(l -> l.get(0).seq()));
        List<Entry> all = new ArrayList<>();
        long next = 1;
        for (List<Entry> entries : perSegment) {
            if (!all.isEmpty() && entries.get(0).seq() != next) {
                LOG.log(System.Logger.Level.WARNING, "event log journal {0}: records {1} to {2} are missing between "
                        + "segments; replaying what is there", dir, next, entries.get(0).seq() - 1);
            }
            all.addAll(entries);
            next = entries.get(entries.size() - 1).seq() + 1;
        }
        return new Recovered(all, segments, next);
    }

    private static List<Entry> readSegment(Path segment) throws IOException {
        List<Entry> entries = new ArrayList<>();
        CRC32C crc = new CRC32C();
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ)) {
            long size = ch.size();
            long at = 0;
            long expected = -1;
            ByteBuffer header = ByteBuffer.allocate(HEADER);
            ByteBuffer body = ByteBuffer.allocate(1 << 16);
            while (at + HEADER + FIXED_BODY <= size) {
                header.clear();
                readFully(ch, header, at);
                int length = header.getInt(0);
                if (length < FIXED_BODY || length > size - at - HEADER) {
                    break; // zeros after the last record, or a torn length
                }
                if (body.capacity() < length) {
                    body = ByteBuffer.allocate(length);
                }
                body.clear().limit(length);
                readFully(ch, body, at + HEADER);
                crc.reset();
                crc.update(body.array(), 0, length);
                if ((int) crc.getValue() != header.getInt(4)) {
                    break; // torn or stale
                }
                long seq = body.getLong(0);
                if (seq <= 0 || (expected >= 0 && seq != expected)) {
                    break;
                }
                long offset = body.getLong(8);
                byte kind = body.get(16);
                int idLength = Byte.toUnsignedInt(body.get(17));
                if (offset < 0 || (kind != LINES && kind != ARCHIVED) || FIXED_BODY + idLength > length) {
                    break;
                }
                String id = new String(body.array(), FIXED_BODY, idLength, StandardCharsets.US_ASCII);
                long bytesPosition = at + HEADER + FIXED_BODY + idLength;
                entries.add(new Entry(seq, kind, id, offset, segment, bytesPosition, length - FIXED_BODY - idLength));
                expected = seq + 1;
                at += HEADER + length;
            }
        }
        return entries;
    }

    /** The bytes of a recovered record. */
    static byte[] read(FileChannel segment, Entry entry) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(entry.bytesLength());
        readFully(segment, buf, entry.bytesPosition());
        return buf.array();
    }

    /** Deletes replayed segments (their records are in the forced conversation files now). */
    static void discard(Path dir, List<Path> segments) throws IOException {
        for (Path segment : segments) {
            Files.deleteIfExists(segment);
        }
        if (!segments.isEmpty()) {
            AtomicFiles.syncDirectory(dir);
        }
    }

    // ---- helpers --------------------------------------------------------------------------------------------

    private static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
        while (buf.hasRemaining()) {
            if (ch.read(buf, position + buf.position()) < 0) {
                throw new IOException("unexpected end of " + ch);
            }
        }
    }

    private static void joinUninterruptibly(Thread thread) {
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
    }

    private static void closeQuietly(Segment segment) {
        if (segment != null && segment.channel != null) {
            try {
                segment.channel.close();
            } catch (IOException ignored) {
                // nothing unwritten depends on it
            }
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // already failing
        }
    }

    private static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // an empty segment left behind holds no record; recovery deletes it
        }
    }
}
