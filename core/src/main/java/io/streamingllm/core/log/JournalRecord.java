package io.streamingllm.core.log;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;

/**
 * One valid record found in a journal segment, and the record layout. Its bytes stay in the segment until
 * {@link #readBytes}. Records follow each other from the start of a segment; integers are big-endian:
 *
 * <table>
 *   <caption>Journal record</caption>
 *   <tr><th>offset</th><th>size</th><th>field</th><th>meaning</th></tr>
 *   <tr><td>0</td><td>4</td><td>length</td><td>bytes after the CRC: 18 + idLength + the bytes' length</td></tr>
 *   <tr><td>4</td><td>4</td><td>crc</td><td>CRC32C of those {@code length} bytes</td></tr>
 *   <tr><td>8</td><td>8</td><td>seq</td><td>sequence number: 1 and up, consecutive within a segment, increasing
 *       across segments</td></tr>
 *   <tr><td>16</td><td>8</td><td>offset</td><td>where the bytes start in the conversation's file (0 for
 *       {@link #ARCHIVED})</td></tr>
 *   <tr><td>24</td><td>1</td><td>kind</td><td>{@link #LINES} or {@link #ARCHIVED}</td></tr>
 *   <tr><td>25</td><td>1</td><td>idLength</td><td>length of the conversation id, unsigned</td></tr>
 *   <tr><td>26</td><td>idLength</td><td>id</td><td>the conversation id, US-ASCII</td></tr>
 *   <tr><td>26 + idLength</td><td>length − 18 − idLength</td><td>bytes</td><td>the lines exactly as written to the
 *       file, newlines included (none for {@link #ARCHIVED})</td></tr>
 * </table>
 */
record JournalRecord(long seq, byte kind, String conversationId, long offset, Path segment, long bytesPosition,
                     int bytesLength) {
    /** Lines written at {@code offset} of the conversation's file. */
    static final byte LINES = 1;
    /** The conversation's file was archived: earlier records of it must not be replayed. */
    static final byte ARCHIVED = 2;
    /** length and crc. */
    static final int HEADER = 4 + 4;
    /** seq, offset, kind and idLength. */
    static final int FIXED_BODY = 8 + 8 + 1 + 1;

    /** Bytes a record of an id and bytes of these lengths takes in a segment. */
    static int size(int idLength, int bytesLength) {
        return HEADER + FIXED_BODY + idLength + bytesLength;
    }

    /** The record's bytes, read from its segment (open for reading). */
    byte[] readBytes(FileChannel segmentChannel) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(bytesLength);
        ChannelIo.readFully(segmentChannel, buf, bytesPosition);
        return buf.array();
    }
}
