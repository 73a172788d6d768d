package io.streamingllm.core.log;

import io.streamingllm.core.AtomicFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Reads what a crashed (or halted) instance left in the journal directory: the valid records of every segment
 * (each cut at its first invalid record, see {@link RecordDecoder}), put in sequence order across segments. Runs
 * on the opening thread, before the journal starts.
 */
final class JournalRecovery {
    private static final System.Logger LOG = System.getLogger(EventLog.class.getName());

    /** The valid records in sequence order, every segment file present, and the sequence number to go on from. */
    record Recovered(List<JournalRecord> records, List<Path> segments, long nextSeq) {
    }

    private JournalRecovery() {
    }

    /** Reads every segment under {@code dir} (none when there is no directory). */
    static Recovered recover(Path dir) throws IOException {
        List<Path> segments = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            files.filter(p -> p.getFileName().toString().endsWith(Journal.SEGMENT_SUFFIX)).forEach(segments::add);
        } catch (NoSuchFileException e) {
            return new Recovered(List.of(), List.of(), 1);
        }
        List<List<JournalRecord>> perSegment = new ArrayList<>();
        for (Path segment : segments) {
            List<JournalRecord> records = RecordDecoder.decodeAll(segment);
            if (!records.isEmpty()) {
                perSegment.add(records);
            }
        }
        perSegment.sort(Comparator.comparingLong(l -> l.get(0).seq()));
        List<JournalRecord> all = new ArrayList<>();
        long next = 1;
        for (List<JournalRecord> records : perSegment) {
            if (!all.isEmpty() && records.get(0).seq() != next) {
                LOG.log(System.Logger.Level.WARNING, "event log journal {0}: records {1} to {2} are missing between "
                        + "segments; replaying what is there", dir, next, records.get(0).seq() - 1);
            }
            all.addAll(records);
            next = records.get(records.size() - 1).seq() + 1;
        }
        return new Recovered(all, segments, next);
    }

    /** Deletes replayed segments (their records are in the forced conversation files now). */
    static void discard(Path dir, List<Path> segments) throws IOException {
        for (Path segment : segments) {
            Files.deleteIfExists(segment);
        }
        if (!segments.isEmpty()) {
            AtomicFiles.syncDirectory(dir);
        }
    }
}
