package io.streamingllm.core.log;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

import static io.streamingllm.core.log.JournalRecord.HEADER;

/**
 * Encodes journal records (layout: {@link JournalRecord}) into a batch buffer, allocating nothing. Owned by one
 * thread (the committer).
 */
final class RecordEncoder {
    private final CRC32C crc = new CRC32C();

    /**
     * Puts one record at {@code buf}'s position and advances it. {@code buf} is a heap buffer with
     * {@link JournalRecord#size} bytes remaining; {@code id} is the conversation id in US-ASCII.
     */
    void encode(ByteBuffer buf, long seq, long offset, byte kind, byte[] id, byte[] bytes) {
        int start = buf.position();
        int size = JournalRecord.size(id.length, bytes.length);
        buf.putInt(size - HEADER).putInt(0).putLong(seq).putLong(offset).put(kind).put((byte) id.length)
                .put(id).put(bytes);
        crc.reset();
        crc.update(buf.array(), buf.arrayOffset() + start + HEADER, size - HEADER);
        buf.putInt(start + 4, (int) crc.getValue());
    }
}
