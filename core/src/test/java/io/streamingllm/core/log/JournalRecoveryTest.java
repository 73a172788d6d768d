package io.streamingllm.core.log;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static io.streamingllm.core.log.RecordDecoderTest.Spec.lines;
import static io.streamingllm.core.log.RecordDecoderTest.encode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What recovery finds in a journal directory left by a crash. */
class JournalRecoveryTest {
    @TempDir
    Path tmp;

    private Path dir() {
        return tmp.resolve(Journal.DIR);
    }

    /** A segment file holding the given bytes, then zeros up to 4 KiB. */
    private Path segment(String name, byte[] content) throws IOException {
        Files.createDirectories(dir());
        return Files.write(dir().resolve(name), Arrays.copyOf(content, Math.max(4096, content.length)));
    }

    private static List<Long> seqs(JournalRecovery.Recovered r) {
        return r.records().stream().map(JournalRecord::seq).toList();
    }

    @Test
    void noJournalDirectoryMeansNothingToReplay() throws IOException {
        JournalRecovery.Recovered r = JournalRecovery.recover(dir());
        assertEquals(List.of(), r.records());
        assertEquals(List.of(), r.segments());
        assertEquals(1, r.nextSeq(), "a fresh journal numbers from 1");
    }

    @Test
    void recordsComeInSequenceOrderAcrossSegmentsWhateverTheirNames() throws IOException {
        // names do not decide the order: the first sequence number of each segment does
        Path later = segment("0000000000000001.seg", encode(List.of(lines(4, "a", 20, "d\n"), lines(5, "b", 0, "e\n"))));
        Path earlier = segment("0000000000000002.seg", encode(List.of(lines(1, "a", 0, "a\n"), lines(2, "a", 2, "b\n"),
                lines(3, "b", 0, "c\n"))));
        JournalRecovery.Recovered r = JournalRecovery.recover(dir());
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L), seqs(r));
        assertEquals(6, r.nextSeq());
        assertEquals(List.of(earlier, later), r.records().stream().map(JournalRecord::segment).distinct().toList());
        assertEquals(Set.of(earlier, later), Set.copyOf(r.segments()));
    }

    @Test
    void eachSegmentIsCutAtItsTornTailAndEmptySegmentsAreStillListedForDeletion() throws IOException {
        byte[] full = encode(List.of(lines(1, "a", 0, "a\n"), lines(2, "a", 2, "b\n")));
        byte[] torn = Arrays.copyOf(full, full.length - 1);
        Path first = segment("a.seg", torn);
        Path empty = segment("b.seg", new byte[0]); // preallocated, never written: the spare of the crashed instance
        Path second = segment("c.seg", encode(List.of(lines(3, "b", 0, "c\n"))));
        Files.writeString(dir().resolve("notes.txt"), "not a segment");
        JournalRecovery.Recovered r = JournalRecovery.recover(dir());
        assertEquals(List.of(1L, 3L), seqs(r), "the gap left by the torn record is reported, what is there replayed");
        assertEquals(4, r.nextSeq());
        assertEquals(List.of(first, empty, second), r.segments().stream().sorted().toList());
    }

    @Test
    void aJournalOfOnlyEmptySegmentsStartsOverFromOne() throws IOException {
        segment("a.seg", new byte[0]);
        JournalRecovery.Recovered r = JournalRecovery.recover(dir());
        assertEquals(List.of(), r.records());
        assertEquals(1, r.segments().size());
        assertEquals(1, r.nextSeq());
    }

    @Test
    void discardDeletesTheReplayedSegmentsOnly() throws IOException {
        Path a = segment("a.seg", encode(List.of(lines(1, "a", 0, "a\n"))));
        Path b = segment("b.seg", new byte[0]);
        Path other = Files.writeString(dir().resolve("notes.txt"), "kept");
        JournalRecovery.Recovered r = JournalRecovery.recover(dir());
        JournalRecovery.discard(dir(), r.segments());
        assertFalse(Files.exists(a));
        assertFalse(Files.exists(b));
        assertTrue(Files.exists(other));
        try (Stream<Path> left = Files.list(dir())) {
            assertEquals(List.of(other), left.toList());
        }
        JournalRecovery.discard(dir(), List.of(a)); // already gone: nothing to do
    }
}
