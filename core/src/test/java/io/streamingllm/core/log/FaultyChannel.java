package io.streamingllm.core.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real file channel whose positional writes and forces fail while the test says so, as a disk with I/O errors
 * would ({@code EIO}): the write may have put part or all of its bytes in the file before it fails, as a real one
 * may.
 * Shared switch: {@link Faults}.
 */
final class FaultyChannel extends FileChannel {
    /** What the channels of one test do: fail the next {@code writes} writes and {@code forces} forces. */
    static final class Faults {
        final AtomicInteger writes = new AtomicInteger();
        final AtomicInteger forces = new AtomicInteger();
        /**
         * While set, writes of anything but zeros land whole and then fail: records fail, undoing them with zeros
         * works.
         */
        final AtomicBoolean failRecords = new AtomicBoolean();
        /** While set, no segment file can be made (as when there is no space for one). */
        final AtomicBoolean failCreate = new AtomicBoolean();
        /** Writes and forces that failed so far. */
        final AtomicInteger failed = new AtomicInteger();

        SegmentPipeline.SegmentFiles files() {
            return path -> {
                if (failCreate.get()) {
                    failed.incrementAndGet();
                    throw new IOException("No space left on device");
                }
                return new FaultyChannel(SegmentPipeline.SegmentFiles.REAL.create(path), this);
            };
        }

        /** Fail every write and force from now on, until {@link #heal}. */
        void failAll() {
            writes.set(Integer.MAX_VALUE);
            forces.set(Integer.MAX_VALUE);
        }

        void heal() {
            writes.set(0);
            forces.set(0);
        }

        boolean take(AtomicInteger counter) {
            int left = counter.getAndUpdate(n -> n == Integer.MAX_VALUE || n == 0 ? n : n - 1);
            if (left > 0) {
                failed.incrementAndGet();
                return true;
            }
            return false;
        }
    }

    private final FileChannel real;
    private final Faults faults;

    FaultyChannel(FileChannel real, Faults faults) {
        this.real = real;
        this.faults = faults;
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
        if (faults.failRecords.get() && !zeros(src)) {
            // all of it lands, then the error: a record that is whole on disk although its write failed
            faults.failed.incrementAndGet();
            real.write(src, position);
            throw new IOException("Input/output error");
        }
        if (faults.take(faults.writes)) {
            // half of it lands, then the error: the caller cannot know how much
            int half = src.remaining() / 2;
            if (half > 0) {
                ByteBuffer part = src.duplicate();
                part.limit(part.position() + half);
                real.write(part, position);
            }
            throw new IOException("Input/output error");
        }
        return real.write(src, position);
    }

    private static boolean zeros(ByteBuffer src) {
        for (int i = src.position(); i < src.limit(); i++) {
            if (src.get(i) != 0) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void force(boolean metaData) throws IOException {
        if (faults.take(faults.forces)) {
            throw new IOException("Input/output error");
        }
        real.force(metaData);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return real.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        return real.read(dsts, offset, length);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        return write(src, real.position());
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        throw new UnsupportedOperationException("not used by the journal");
    }

    @Override
    public long position() throws IOException {
        return real.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
        real.position(newPosition);
        return this;
    }

    @Override
    public long size() throws IOException {
        return real.size();
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
        real.truncate(size);
        return this;
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
        return real.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
        return real.transferFrom(src, position, count);
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        return real.read(dst, position);
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
        return real.map(mode, position, size);
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
        return real.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
        return real.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
        real.close();
    }
}
