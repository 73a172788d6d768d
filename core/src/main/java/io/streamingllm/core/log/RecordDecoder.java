package io.streamingllm.core.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

import static io.streamingllm.core.log.JournalRecord.ARCHIVED;
import static io.streamingllm.core.log.JournalRecord.FIXED_BODY;
import static io.streamingllm.core.log.JournalRecord.HEADER;
import static io.streamingllm.core.log.JournalRecord.LINES;

/**
 * Decodes the records of one journal segment (layout: {@link JournalRecord}) from its start up to the first that
 * is not valid: the zeros of the preallocation after the last record, a torn write (a length beyond the segment,
 * a CRC that does not match), or a stale record (checksummed but out of sequence, left from an earlier use of the
 * blocks). Nothing after that point is trusted. One thread.
 */
final class RecordDecoder {
    private final FileChannel ch;
    private final Path segment;
    private final long size;
    private final CRC32C crc = new CRC32C();
    private final ByteBuffer header = ByteBuffer.allocate(HEADER);
    private ByteBuffer body = ByteBuffer.allocate(1 << 16);
    private long at;
    private long expectedSeq = -1;

    RecordDecoder(FileChannel ch, Path segment) throws IOException {
        this.ch = ch;
        this.segment = segment;
        this.size = ch.size();
    }

    /** Every valid record of a segment file, in order. */
    static List<JournalRecord> decodeAll(Path segment) throws IOException {
        List<JournalRecord> records = new ArrayList<>();
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ)) {
            RecordDecoder decoder = new RecordDecoder(ch, segment);
            for (JournalRecord r; (r = decoder.next()) != null; ) {
                records.add(r);
            }
        }
        return records;
    }

    /** The next valid record, or null where the valid ones end (and on every call after: nothing moves past). */
    JournalRecord next() throws IOException {
        if (at + HEADER + FIXED_BODY > size) {
            return null;
        }
        header.clear();
        ChannelIo.readFully(ch, header, at);
        int length = header.getInt(0);
        if (length < FIXED_BODY || length > size - at - HEADER) {
            return null; // zeros after the last record, or a torn length
        }
        if (body.capacity() < length) {
            body = ByteBuffer.allocate(length);
        }
        body.clear().limit(length);
        ChannelIo.readFully(ch, body, at + HEADER);
        crc.reset();
        crc.update(body.array(), 0, length);
        if ((int) crc.getValue() != header.getInt(4)) {
            return null; // torn or stale
        }
        long seq = body.getLong(0);
        if (seq <= 0 || (expectedSeq >= 0 && seq != expectedSeq)) {
            return null;
        }
        long offset = body.getLong(8);
        byte kind = body.get(16);
        int idLength = Byte.toUnsignedInt(body.get(17));
        if (offset < 0 || (kind != LINES && kind != ARCHIVED) || FIXED_BODY + idLength > length) {
            return null;
        }
        String id = new String(body.array(), FIXED_BODY, idLength, StandardCharsets.US_ASCII);
        long bytesPosition = at + HEADER + FIXED_BODY + idLength;
        expectedSeq = seq + 1;
        at += HEADER + length;
        return new JournalRecord(seq, kind, id, offset, segment, bytesPosition, length - FIXED_BODY - idLength);
    }
}
