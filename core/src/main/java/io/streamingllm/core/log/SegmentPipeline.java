package io.streamingllm.core.log;

import io.streamingllm.core.AtomicFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Hands the committer its journal segments, preallocated: zero-filled and forced (data, size and directory entry),
 * so that an fdatasync of a record overwrites allocated blocks and needs no file-system metadata commit. The next
 * segment is prepared on a thread of its own ahead of need; a record larger than a segment gets one of its own,
 * prepared on the spot. Segment files are named {@code {16 hex digits}.seg}, increasing. Owned by one thread (the
 * committer); the preparing thread hands its segment over through a future.
 */
final class SegmentPipeline {
    private static final int ZERO_CHUNK = 1 << 20;

    private final Path dir;
    private final long segmentSize;
    /** Both the preparing thread and the committer (oversized segments) name files. */
    private final AtomicLong nextNumber = new AtomicLong(System.currentTimeMillis());
    private CompletableFuture<JournalSegment> spare;

    SegmentPipeline(Path dir, long segmentSize) {
        this.dir = dir;
        this.segmentSize = segmentSize;
    }

    /** Starts preparing the next segment in the background, unless one is on its way already. */
    void prepareNext() {
        if (spare == null) {
            spare = prepareAsync(segmentSize);
        }
    }

    /**
     * A fresh segment for a batch of {@code bytes}: the spare (waiting for it to be ready), or, for a batch larger
     * than a segment, a segment of exactly that size.
     */
    JournalSegment next(long bytes) throws IOException {
        if (bytes > segmentSize) {
            return prepare(bytes);
        }
        prepareNext();
        try {
            return spare.join();
        } catch (CompletionException e) {
            throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
        } finally {
            spare = null;
        }
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

    private CompletableFuture<JournalSegment> prepareAsync(long size) {
        CompletableFuture<JournalSegment> f = new CompletableFuture<>();
        Thread.ofPlatform().daemon().name("event-log-preallocate").start(() -> {
            try {
                f.complete(prepare(size));
            } catch (IOException | RuntimeException e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    private JournalSegment prepare(long size) throws IOException {
        Files.createDirectories(dir);
        Path path = dir.resolve(String.format("%016x", nextNumber.getAndIncrement()) + Journal.SEGMENT_SUFFIX);
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
            ChannelIo.closeQuietly(ch);
            deleteQuietly(path);
            throw e;
        }
        AtomicFiles.syncDirectory(dir);
        AtomicFiles.syncDirectory(dir.getParent());
        return new JournalSegment(path, ch, size);
    }

    private static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // an empty segment left behind holds no record; recovery deletes it
        }
    }
}
