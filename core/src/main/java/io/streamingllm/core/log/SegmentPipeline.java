package io.streamingllm.core.log;

import io.streamingllm.core.AtomicFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Hands the committer its journal segments, preallocated: zero-filled and forced (data, size and directory entry),
 * so that an fdatasync of a record overwrites allocated blocks and needs no file-system metadata commit. The next
 * segment is prepared on a thread of its own ahead of need; a record larger than a segment gets one of its own,
 * prepared on the spot. Segment files are named {@code {16 hex digits}.seg}, increasing.
 *
 * <p>Space: a spare takes at most half of the space the log's file system will have left when the active segment
 * is full (its records' lines take as much again in the conversation files); at least 64 KiB, and never less than
 * the batch it is for. A small or nearly full volume gets smaller segments instead of none, and the conversation
 * files keep room. A spare that cannot be prepared is a warning ({@link WriteFaults}) while the
 * active segment has room, and is tried again at most once a second; {@link #next} tries at once.
 *
 * <p>Owned by one thread (the committer); the preparing thread hands its segment over through a future.
 */
final class SegmentPipeline {
    /** Opens a new segment file (tests put failing channels here). */
    interface SegmentFiles {
        SegmentFiles REAL = path -> FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);

        FileChannel create(Path path) throws IOException;
    }

    static final long MIN_SEGMENT = 64 * 1024;
    private static final int ZERO_CHUNK = 1 << 20;
    private static final long SPARE_RETRY_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Path dir;
    private final long segmentSize;
    private final SegmentFiles files;
    private final WriteFaults faults;
    /** Both the preparing thread and the committer (oversized segments) name files. */
    private final AtomicLong nextNumber = new AtomicLong(System.currentTimeMillis());
    private CompletableFuture<JournalSegment> spare;
    private volatile long spareFailedAt;

    SegmentPipeline(Path dir, long segmentSize) {
        this(dir, segmentSize, SegmentFiles.REAL, new WriteFaults(Duration.ZERO));
    }

    SegmentPipeline(Path dir, long segmentSize, SegmentFiles files, WriteFaults faults) {
        this.dir = dir;
        this.segmentSize = segmentSize;
        this.files = files;
        this.faults = faults;
    }

    /**
     * Starts preparing the next segment in the background, unless one is on its way already or the last attempt
     * failed less than a second ago. {@code reserve}: bytes the active segment has left, which the conversation
     * files will take as well before the spare is needed.
     */
    void prepareNext(long reserve) {
        if (spare != null && spare.isCompletedExceptionally()) {
            if (System.nanoTime() - spareFailedAt < SPARE_RETRY_NANOS) {
                return;
            }
            spare = null;
        }
        if (spare == null) {
            spare = prepareAsync(segmentSize, reserve);
        }
    }

    /**
     * A fresh segment for a batch of {@code bytes}: the spare (waiting for it to be ready; prepared again now if
     * it failed or is too small), or, for a batch larger than a segment, a segment of exactly that size.
     */
    JournalSegment next(long bytes) throws IOException {
        if (bytes > segmentSize) {
            return prepare(bytes, bytes, 0);
        }
        if (spare != null && spare.isCompletedExceptionally()) {
            spare = null;
        }
        prepareNext(0);
        JournalSegment s;
        try {
            s = spare.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } finally {
            spare = null;
        }
        if (s.size < bytes) {
            s.closeQuietly(); // made small while space was short
            deleteQuietly(s.path);
            return prepare(bytes, bytes, 0);
        }
        return s;
    }

    /** Closes the spare, if any, and deletes it unless {@code keepFile} (a halt leaves files as a crash would). */
    void close(boolean keepFile) {
        if (spare == null) {
            return;
        }
        JournalSegment s;
        try {
            s = spare.join();
        } catch (RuntimeException e) {
            return; // its preparation failed and cleaned up after itself
        } finally {
            spare = null;
        }
        s.closeQuietly();
        if (!keepFile) {
            deleteQuietly(s.path);
        }
    }

    private CompletableFuture<JournalSegment> prepareAsync(long size, long reserve) {
        CompletableFuture<JournalSegment> f = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("event-log-preallocate").start(() -> {
            try {
                JournalSegment s = prepare(size, 0, reserve);
                faults.spareWarning(null);
                f.complete(s);
            } catch (IOException | RuntimeException e) {
                spareFailedAt = System.nanoTime();
                faults.spareWarning("the next journal segment cannot be preallocated: " + WriteFaults.reason(e));
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    /** A segment of {@code preferred} bytes, or less when space is short, but never less than {@code needed}. */
    private JournalSegment prepare(long preferred, long needed, long reserve) throws IOException {
        Files.createDirectories(dir);
        long size = sized(preferred, needed, reserve);
        Path path = dir.resolve(String.format("%016x", nextNumber.getAndIncrement()) + Journal.SEGMENT_SUFFIX);
        FileChannel ch = files.create(path);
        try {
            ByteBuffer zeros = ByteBuffer.allocateDirect((int) Math.min(ZERO_CHUNK, size));
            for (long at = 0; at < size; ) {
                zeros.clear().limit((int) Math.min(zeros.capacity(), size - at));
                at += ch.write(zeros, at);
            }
            ch.force(true);
        } catch (IOException | RuntimeException e) {
            ChannelIo.closeQuietly(ch);
            deleteQuietly(path);
            throw e;
        }
        AtomicFiles.syncDirectory(dir);
        AtomicFiles.syncDirectory(dir.getParent());
        return new JournalSegment(path, ch, size);
    }

    private long sized(long preferred, long needed, long reserve) throws IOException {
        long usable;
        try {
            usable = Files.getFileStore(dir).getUsableSpace();
        } catch (IOException | UnsupportedOperationException e) {
            return Math.max(preferred, needed); // unknown: try, and let the writes say
        }
        long half = (Math.max(0, usable - reserve) / 2) & ~4095L;
        long size = Math.max(needed, Math.min(preferred, Math.max(half, MIN_SEGMENT)));
        if (size > usable) {
            throw new IOException("No space left on device: a journal segment needs " + size + " bytes, "
                    + usable + " are usable in " + dir);
        }
        return size;
    }

    private static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // an empty segment left behind holds no record; recovery deletes it
        }
    }
}
