package io.streamingllm.core.log;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Preallocated journal segments: zero-filled, named in order, prepared ahead, cleaned up. */
class SegmentPipelineTest {
    private static final int SIZE = 64 * 1024;

    @TempDir
    Path tmp;
    private final List<JournalSegment> opened = new ArrayList<>();

    @AfterEach
    void closeSegments() {
        opened.forEach(JournalSegment::closeQuietly);
    }

    private Path journalDir() {
        return tmp.resolve("logs").resolve(Journal.DIR);
    }

    private JournalSegment next(SegmentPipeline pipeline, long bytes) throws IOException {
        JournalSegment s = pipeline.next(bytes);
        opened.add(s);
        return s;
    }

    private List<Path> files() throws IOException {
        try (Stream<Path> s = Files.list(journalDir())) {
            return s.sorted().toList();
        }
    }

    @Test
    void aSegmentIsAZeroFilledFileOfTheSegmentSizeReadyToWrite() throws IOException {
        SegmentPipeline pipeline = new SegmentPipeline(journalDir(), SIZE);
        JournalSegment s = next(pipeline, 100);
        assertEquals(journalDir(), s.path.getParent(), "the journal directory is created as needed");
        assertTrue(s.path.getFileName().toString().matches("[0-9a-f]{16}\\.seg"), s.path.toString());
        assertEquals(SIZE, s.size);
        assertEquals(SIZE, Files.size(s.path));
        assertEquals(0, s.position);
        assertEquals(0, countNonZero(Files.readAllBytes(s.path)));
        assertTrue(s.conversations.isEmpty());
        s.channel.write(ByteBuffer.wrap(new byte[]{1, 2, 3}), 10);
        assertEquals(SIZE, Files.size(s.path), "writes overwrite the preallocated blocks");
        pipeline.close(false);
    }

    @Test
    void segmentsAreNamedInTheOrderTheyAreMade() throws IOException {
        SegmentPipeline pipeline = new SegmentPipeline(journalDir(), SIZE);
        List<Path> made = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            made.add(next(pipeline, i == 2 ? SIZE + 1 : 1).path);
        }
        assertEquals(made.stream().sorted().toList(), made);
        assertEquals(4, made.stream().distinct().count());
        pipeline.close(false);
    }

    @Test
    void aBatchLargerThanASegmentGetsASegmentOfItsOwnSize() throws IOException {
        SegmentPipeline pipeline = new SegmentPipeline(journalDir(), SIZE);
        JournalSegment big = next(pipeline, 3L * SIZE + 5);
        assertEquals(3L * SIZE + 5, big.size);
        assertEquals(3L * SIZE + 5, Files.size(big.path));
        pipeline.close(false);
    }

    @Test
    void theNextSegmentIsPreparedAheadOnceAndHandedOut() throws IOException {
        SegmentPipeline pipeline = new SegmentPipeline(journalDir(), SIZE);
        pipeline.prepareNext(0);
        pipeline.prepareNext(0); // one is on its way already: no second file
        JournalSegment s = next(pipeline, 1);
        assertEquals(List.of(s.path), files(), "the prepared segment is the one handed out");
        JournalSegment t = next(pipeline, 1);
        assertNotEquals(s.path, t.path);
        assertEquals(List.of(s.path, t.path), files());
        pipeline.close(false);
        assertEquals(List.of(s.path, t.path), files(), "segments handed out are the journal's to delete");
    }

    @Test
    void closingDeletesAnUnusedSpareUnlessItKeepsItAsACrashWould() throws IOException {
        SegmentPipeline clean = new SegmentPipeline(journalDir(), SIZE);
        clean.prepareNext(0);
        clean.close(false);
        assertEquals(List.of(), files());

        SegmentPipeline halted = new SegmentPipeline(journalDir(), SIZE);
        halted.prepareNext(0);
        halted.close(true);
        assertEquals(1, files().size());
        halted.close(false); // nothing left to close
        assertEquals(1, files().size());
    }

    @Test
    void aSegmentThatCannotBeMadeIsAnIOException() throws IOException {
        Path notADirectory = Files.writeString(tmp.resolve("file"), "x");
        SegmentPipeline pipeline = new SegmentPipeline(notADirectory.resolve(Journal.DIR), SIZE);
        assertThrows(IOException.class, () -> pipeline.next(1), "prepared in the background, failing there");
        assertThrows(IOException.class, () -> pipeline.next(SIZE + 1), "prepared on the spot");
        pipeline.close(false);
    }

    private static int countNonZero(byte[] bytes) {
        int n = 0;
        for (byte b : bytes) {
            n += b != 0 ? 1 : 0;
        }
        return n;
    }
}
