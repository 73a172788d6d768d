package io.streamingllm.core.log;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Decoding a segment: every valid record, in order, and nothing from the first invalid one on. */
class RecordDecoderTest {
    @TempDir
    Path dir;

    /** One record to encode. */
    record Spec(long seq, long offset, byte kind, String id, String bytes) {
        static Spec lines(long seq, String id, long offset, String bytes) {
            return new Spec(seq, offset, JournalRecord.LINES, id, bytes);
        }

        int size() {
            return JournalRecord.size(id.length(), bytes.getBytes(StandardCharsets.UTF_8).length);
        }
    }

    static byte[] encode(List<Spec> specs) {
        ByteBuffer buf = ByteBuffer.allocate(specs.stream().mapToInt(Spec::size).sum());
        RecordEncoder encoder = new RecordEncoder();
        for (Spec s : specs) {
            encoder.encode(buf, s.seq(), s.offset(), s.kind(), s.id().getBytes(StandardCharsets.US_ASCII),
                    s.bytes().getBytes(StandardCharsets.UTF_8));
        }
        return buf.array();
    }

    /** A segment file: the given bytes, then zeros up to {@code size} (the preallocation). */
    Path segment(String name, byte[] content, int size) throws IOException {
        byte[] file = Arrays.copyOf(content, Math.max(size, content.length));
        return Files.write(dir.resolve(name), file);
    }

    static byte[] concat(byte[]... parts) {
        ByteBuffer buf = ByteBuffer.allocate(Arrays.stream(parts).mapToInt(p -> p.length).sum());
        for (byte[] p : parts) {
            buf.put(p);
        }
        return buf.array();
    }

    private final List<Spec> three = List.of(
            Spec.lines(41, "a", 0, "{\"n\":1}\n"),
            new Spec(42, 0, JournalRecord.ARCHIVED, "b", ""),
            Spec.lines(43, "x".repeat(128), 12_345, "{\"n\":2}\n{\"n\":3}\n"));

    @Test
    void decodesEveryRecordWithItsFieldsAndBytes() throws IOException {
        Path segment = segment("s.seg", encode(three), 4096);
        List<JournalRecord> records = RecordDecoder.decodeAll(segment);
        assertEquals(3, records.size());
        try (FileChannel ch = FileChannel.open(segment, StandardOpenOption.READ)) {
            for (int i = 0; i < 3; i++) {
                Spec spec = three.get(i);
                JournalRecord r = records.get(i);
                assertEquals(spec.seq(), r.seq());
                assertEquals(spec.kind(), r.kind());
                assertEquals(spec.id(), r.conversationId());
                assertEquals(spec.offset(), r.offset());
                assertEquals(segment, r.segment());
                assertArrayEquals(spec.bytes().getBytes(StandardCharsets.UTF_8), r.readBytes(ch));
            }
        }
    }

    @Test
    void aSegmentFilledExactlyOrNotAtAllDecodes() throws IOException {
        assertEquals(3, RecordDecoder.decodeAll(segment("full.seg", encode(three), 0)).size());
        assertEquals(List.of(), RecordDecoder.decodeAll(segment("zeros.seg", new byte[0], 4096)));
        assertEquals(List.of(), RecordDecoder.decodeAll(segment("empty.seg", new byte[0], 0)));
        assertEquals(List.of(), RecordDecoder.decodeAll(segment("tiny.seg", new byte[]{0, 0, 0, 30}, 0)));
    }

    @Test
    void stopsAtATornLength() throws IOException {
        byte[] good = encode(three.subList(0, 2));
        byte[] next = encode(List.of(Spec.lines(43, "a", 8, "{\"n\":2}\n")));
        // the write of the last record was cut: its length says more than the segment holds
        byte[] torn = Arrays.copyOf(next, next.length - 3);
        assertEquals(2, RecordDecoder.decodeAll(segment("torn.seg", concat(good, torn), 0)).size());
        // a length below the fixed fields
        byte[] shortLength = next.clone();
        ByteBuffer.wrap(shortLength).putInt(0, JournalRecord.FIXED_BODY - 1);
        assertEquals(2, RecordDecoder.decodeAll(segment("short.seg", concat(good, shortLength), 4096)).size());
    }

    @Test
    void stopsAtAChecksumMismatch() throws IOException {
        byte[] bytes = encode(three);
        bytes[bytes.length - 2] ^= 0x01; // a bit of the last record's line
        assertEquals(List.of(41L, 42L), seqs(RecordDecoder.decodeAll(segment("crc.seg", bytes, 4096))));
        byte[] zeroedTail = encode(three);
        Arrays.fill(zeroedTail, zeroedTail.length - 10, zeroedTail.length, (byte) 0); // a lost last page
        assertEquals(List.of(41L, 42L), seqs(RecordDecoder.decodeAll(segment("zeroed.seg", zeroedTail, 4096))));
    }

    @Test
    void stopsAtAStaleOrOutOfSequenceRecord() throws IOException {
        byte[] good = encode(three.subList(0, 2));
        // checksummed correctly, but left from an earlier use of the blocks: its number does not follow
        byte[] stale = encode(List.of(Spec.lines(7, "a", 0, "{\"old\":true}\n")));
        assertEquals(List.of(41L, 42L), seqs(RecordDecoder.decodeAll(segment("stale.seg", concat(good, stale), 4096))));
        byte[] repeated = encode(List.of(Spec.lines(42, "a", 0, "{}\n")));
        assertEquals(List.of(41L, 42L), seqs(RecordDecoder.decodeAll(segment("again.seg", concat(good, repeated), 4096))));
        assertEquals(List.of(), RecordDecoder.decodeAll(segment("zero.seg", encode(List.of(Spec.lines(0, "a", 0, "{}\n"))), 4096)));
    }

    @Test
    void stopsAtFieldsNoWriterProduces() throws IOException {
        byte[] good = encode(three.subList(0, 1));
        List<byte[]> bad = List.of(
                encode(List.of(new Spec(42, 0, (byte) 3, "a", "{}\n"))), // unknown kind
                encode(List.of(Spec.lines(42, "a", -1, "{}\n"))), // negative offset
                withIdLength(encode(List.of(Spec.lines(42, "a", 0, "{}\n"))), 200)); // id longer than the record
        for (int i = 0; i < bad.size(); i++) {
            Path segment = segment("bad" + i + ".seg", concat(good, bad.get(i)), 4096);
            assertEquals(List.of(41L), seqs(RecordDecoder.decodeAll(segment)), "case " + i);
        }
    }

    /** A record whose idLength field says {@code idLength}, with the checksum fixed up to match. */
    private static byte[] withIdLength(byte[] record, int idLength) {
        byte[] copy = record.clone();
        copy[JournalRecord.HEADER + 17] = (byte) idLength;
        CRC32C crc = new CRC32C();
        crc.update(copy, JournalRecord.HEADER, copy.length - JournalRecord.HEADER);
        ByteBuffer.wrap(copy).putInt(4, (int) crc.getValue());
        return copy;
    }

    private static List<Long> seqs(List<JournalRecord> records) {
        return records.stream().map(JournalRecord::seq).toList();
    }
}
