package io.streamingllm.core.log;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The record layout on disk, byte for byte (journals of earlier versions must stay readable, and vice versa). */
class RecordEncoderTest {
    @Test
    void aRecordIsLaidOutAsTheTableSays() {
        byte[] line = "{\"a\":1}\n".getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(64);
        buf.position(3); // records follow each other: the encoder writes where the buffer stands
        new RecordEncoder().encode(buf, 7, 300, JournalRecord.LINES, "c1".getBytes(StandardCharsets.US_ASCII), line);

        assertEquals(3 + JournalRecord.size(2, line.length), buf.position());
        assertEquals(8 + 18 + 2 + 8, JournalRecord.size(2, line.length));
        byte[] body = HexFormat.of().parseHex(
                "0000000000000007" // seq
                        + "000000000000012c" // offset 300
                        + "01" // kind LINES
                        + "02" // id length
                        + "6331" // "c1"
                        + "7b2261223a317d0a"); // the line, newline included
        CRC32C crc = new CRC32C();
        crc.update(body);
        ByteBuffer expected = ByteBuffer.allocate(8 + body.length).putInt(body.length).putInt((int) crc.getValue()).put(body);
        byte[] written = new byte[buf.position() - 3];
        buf.get(3, written);
        assertArrayEquals(expected.array(), written);
    }

    @Test
    void anArchivedMarkerCarriesNoBytes() {
        ByteBuffer buf = ByteBuffer.allocate(64);
        new RecordEncoder().encode(buf, 1, 0, JournalRecord.ARCHIVED, "x".getBytes(StandardCharsets.US_ASCII), new byte[0]);
        assertEquals(8 + 18 + 1, buf.position());
        assertEquals(18 + 1, buf.getInt(0));
        assertEquals(JournalRecord.ARCHIVED, buf.get(8 + 16));
    }

    @Test
    void theChecksumIsOfTheRecordItselfWhateverPrecedesIt() {
        byte[] id = "conv".getBytes(StandardCharsets.US_ASCII);
        byte[] line = "line\n".getBytes(StandardCharsets.UTF_8);
        ByteBuffer alone = ByteBuffer.allocate(64);
        RecordEncoder encoder = new RecordEncoder();
        encoder.encode(alone, 5, 10, JournalRecord.LINES, id, line);
        ByteBuffer second = ByteBuffer.allocate(128);
        encoder.encode(second, 4, 0, JournalRecord.LINES, id, "first\n".getBytes(StandardCharsets.UTF_8));
        int start = second.position();
        encoder.encode(second, 5, 10, JournalRecord.LINES, id, line);
        byte[] a = new byte[alone.position()];
        alone.get(0, a);
        byte[] b = new byte[second.position() - start];
        second.get(start, b);
        assertArrayEquals(a, b);
    }
}
