package io.streamingllm.core.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * Writes the journal's records into its segments: encodes a chunk ({@link RecordEncoder}), writes it at the active
 * segment's position with one write and forces it with one {@code force(false)}, seals a full segment for the
 * {@link Checkpointer} and has the next one prepared ahead ({@link SegmentPipeline}).
 *
 * <p>A write or force that fails is undone before the exception leaves: the chunk's sequence numbers are given back
 * and its bytes written over with zeros (which recovery reads as the end of a segment), so that a retry, or the
 * next chunk, starts clean and a record the caller was told failed can never be replayed. When even the zeros cannot
 * be written and forced, the segment may hold such a record: the writer is {@link #broken} and refuses every later
 * write (a restart replays what the segment holds).
 *
 * <p>Owned by the committer thread; {@link #broken} is read by others.
 */
final class JournalWriter {
    /** What the health probe writes (zeros, where the next record goes): one page. */
    private static final int PROBE_BYTES = 4096;

    private final SegmentPipeline segments;
    private final Checkpointer checkpointer;
    private final RecordEncoder encoder = new RecordEncoder();
    private long nextSeq;
    private JournalSegment active;
    private ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
    private volatile IOException broken;

    JournalWriter(SegmentPipeline segments, Checkpointer checkpointer, long firstSeq) {
        this.segments = segments;
        this.checkpointer = checkpointer;
        this.nextSeq = firstSeq;
    }

    /** Why the writer refuses to write, or null. */
    IOException broken() {
        return broken;
    }

    /** Writes the chunk's records (at most one segment's worth, or one record) and forces them. */
    void write(List<Journal.Pending> chunk) throws IOException {
        requireUsable();
        int total = 0;
        for (Journal.Pending p : chunk) {
            total += p.size();
        }
        JournalSegment segment = segmentFor(total);
        if (buffer.capacity() < total) {
            buffer = ByteBuffer.allocate(Math.max(total, buffer.capacity() * 2));
        }
        buffer.clear();
        long firstSeq = nextSeq;
        for (Journal.Pending p : chunk) {
            encoder.encode(buffer, nextSeq++, p.offset, p.kind, p.id, p.bytes);
        }
        buffer.flip();
        try {
            ChannelIo.writeFully(segment.channel, buffer, segment.position);
            segment.channel.force(false);
        } catch (IOException | RuntimeException e) {
            nextSeq = firstSeq;
            clear(segment, total, e);
            throw e;
        }
        for (Journal.Pending p : chunk) {
            if (p.kind == JournalRecord.LINES) {
                segment.conversations.add(p.conversationId);
            }
        }
        segment.position += total;
        if (segment.position * 2 >= segment.size) {
            segments.prepareNext(segment.size - segment.position); // ready before this one fills
        }
    }

    /**
     * Whether a record could be written now: a segment with room (prepared if need be), zeros written and forced
     * where the next record goes.
     */
    void probe() throws IOException {
        requireUsable();
        JournalSegment segment = segmentFor(PROBE_BYTES);
        ChannelIo.writeFully(segment.channel, ByteBuffer.allocate(PROBE_BYTES), segment.position);
        segment.channel.force(false);
    }

    /** Hands the active segment to the checkpointer (a clean stop). */
    void sealActive() {
        if (active != null) {
            checkpointer.seal(active);
            active = null;
        }
    }

    /** Closes the active segment and the spare, leaving their files as a crash would (a halt). */
    void halt() {
        if (active != null) {
            active.closeQuietly();
        }
        segments.close(true);
    }

    /** Deletes the unused spare (a clean stop, after {@link #sealActive}). */
    void closeSpare() {
        segments.close(false);
    }

    private void requireUsable() throws IOException {
        IOException b = broken;
        if (b != null) {
            throw new IOException(b.getMessage(), b);
        }
    }

    private JournalSegment segmentFor(long bytes) throws IOException {
        if (active != null && active.position + bytes <= active.size) {
            return active;
        }
        sealActive();
        active = segments.next(bytes);
        return active;
    }

    /** Writes zeros over a failed chunk's bytes; when that fails too, the writer is broken. */
    private void clear(JournalSegment segment, int length, Throwable failure) {
        try {
            ChannelIo.writeFully(segment.channel, ByteBuffer.allocate(length), segment.position);
            segment.channel.force(false);
        } catch (IOException | RuntimeException e) {
            broken = new IOException("journal segment " + segment.path + " may hold records that failed ("
                    + WriteFaults.reason(failure) + ") and they cannot be cleared (" + WriteFaults.reason(e)
                    + "): appends are refused until the sidecar restarts", e);
        }
    }
}
