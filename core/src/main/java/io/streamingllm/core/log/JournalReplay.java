package io.streamingllm.core.log;

import io.streamingllm.core.AtomicFiles;
import io.streamingllm.core.Ids;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Map.Entry;

/**
 * Puts every record of a crashed instance's journal back into the conversation files, before anything else opens
 * them (the opening thread, no locks). A record whose bytes the file already holds at its offset is skipped, one
 * at the file's end is appended, and anything else found at its offset (zeros of a lost page cache, other bytes)
 * is moved to {@code {id}.jsonl.corrupt} before the record's bytes are written there. Records of a conversation
 * before its last {@link JournalRecord#ARCHIVED} marker are dropped. Idempotent; every file it opened is forced.
 */
final class JournalReplay {
    private static final System.Logger LOG = System.getLogger(EventLog.class.getName());

    private final LogLayout layout;
    private final TailRepair repair;

    JournalReplay(LogLayout layout, TailRepair repair) {
        this.layout = layout;
        this.repair = repair;
    }

    /** Replays {@code records} (in sequence order). */
    void replay(List<JournalRecord> records) throws IOException {
        if (records.isEmpty()) {
            return;
        }
        Map<String, Long> archivedAt = new HashMap<>();
        for (JournalRecord r : records) {
            if (r.kind() == JournalRecord.ARCHIVED) {
                archivedAt.merge(r.conversationId(), r.seq(), Math::max);
            }
        }
        Map<String, List<JournalRecord>> byConversation = new LinkedHashMap<>();
        for (JournalRecord r : records) {
            if (r.kind() == JournalRecord.LINES && r.seq() > archivedAt.getOrDefault(r.conversationId(), 0L)) {
                if (Ids.isValid(r.conversationId())) {
                    byConversation.computeIfAbsent(r.conversationId(), k -> new ArrayList<>()).add(r);
                } else {
                    LOG.log(System.Logger.Level.WARNING, "event log journal: record {0} names an invalid "
                            + "conversation id, skipped", r.seq());
                }
            }
        }
        Map<Path, FileChannel> segments = new HashMap<>();
        try {
            for (Entry<String, List<JournalRecord>> conversation : byConversation.entrySet()) {
                replay(conversation.getKey(), conversation.getValue(), segments);
            }
        } finally {
            segments.values().forEach(ChannelIo::closeQuietly);
        }
        AtomicFiles.syncDirectory(layout.dir());
    }

    private void replay(String id, List<JournalRecord> records, Map<Path, FileChannel> segments) throws IOException {
        Path file = layout.file(id);
        int restored = 0;
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE)) {
            long shift = 0; // after a gap, where the file's offsets stand against the journal's
            for (JournalRecord r : records) {
                FileChannel segment = segments.get(r.segment());
                if (segment == null) {
                    segment = FileChannel.open(r.segment(), StandardOpenOption.READ);
                    segments.put(r.segment(), segment);
                }
                byte[] bytes = r.readBytes(segment);
                long at = r.offset() + shift;
                long size = ch.size();
                if (size > at) {
                    if (size - at >= bytes.length && Arrays.equals(ChannelIo.readAt(ch, at, bytes.length), bytes)) {
                        continue; // already there
                    }
                    repair.moveToCorrupt(id, ch, at, size);
                    ch.truncate(at);
                    LOG.log(System.Logger.Level.WARNING, "event log {0}: bytes at offset {1} differ from journal "
                            + "record {2}; moved the {3} bytes from there to the end to {4} and wrote the record",
                            file, at, r.seq(), size - at, id + LogLayout.CORRUPT_SUFFIX);
                } else if (size < at) {
                    LOG.log(System.Logger.Level.WARNING, "event log {0}: journal record {1} belongs at offset {2} "
                            + "but the file ends at {3}: {4} earlier bytes are missing; the record is appended at {3}",
                            file, r.seq(), at, size, at - size);
                    shift -= at - size;
                    at = size;
                }
                ChannelIo.writeFully(ch, ByteBuffer.wrap(bytes), at);
                restored++;
            }
            // even with nothing restored: what is there may exist only in the page cache of a killed process
            ch.force(true);
        }
        if (restored > 0) {
            LOG.log(System.Logger.Level.INFO, "event log {0}: restored {1} of {2} journal records", file, restored,
                    records.size());
        }
    }
}
