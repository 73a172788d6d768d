package io.streamingllm.core.log;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * Takes back lines that were written to a conversation's file but will not be acknowledged (their write failed
 * half-way, the journal refused their record, or the record failed): the file is cut back to where they start
 * and forced, so that after a restart the log holds what the appenders were told. Thread-safe: each cut holds
 * the conversation's lock.
 */
final class LineRollback implements Journal.Rollback {
    private static final System.Logger LOG = System.getLogger(EventLog.class.getName());

    private final LogLayout layout;
    private final WriteChannels channels;
    private final Map<String, ConversationFile> conversations;

    LineRollback(LogLayout layout, WriteChannels channels, Map<String, ConversationFile> conversations) {
        this.layout = layout;
        this.channels = channels;
        this.conversations = conversations;
    }

    /** The journal's undo: every conversation cut back to its offset, each under its lock. */
    @Override
    public void undo(Map<String, Long> offsets) {
        offsets.forEach((id, offset) -> {
            ConversationFile c = conversations.get(id);
            if (c == null) {
                return; // every appender registers its conversation first: nothing of it was written
            }
            c.lock.lock();
            try {
                cut(c, offset);
            } finally {
                c.lock.unlock();
            }
        });
    }

    /**
     * Cuts the conversation's file back to {@code offset} (never longer) and forces it. When that fails, the
     * channel is dropped and the tail checked again on the next use. Holds c.lock.
     */
    void cut(ConversationFile c, long offset) {
        try (FileChannel ch = FileChannel.open(layout.file(c.id), StandardOpenOption.WRITE)) {
            if (ch.size() > offset) {
                ch.truncate(offset);
                ch.force(true);
            }
            c.end = ch.size();
        } catch (NoSuchFileException e) {
            c.end = -1; // archived meanwhile: nothing left to cut
        } catch (IOException e) {
            channels.release(c);
            c.end = -1;
            c.checked = false; // the tail check on the next use moves any partial line aside
            LOG.log(System.Logger.Level.ERROR, "event log {0}: cannot cut lines that were not acknowledged at offset "
                    + "{1} ({2}); they may show in the log after a restart", c.id, offset, WriteFaults.reason(e));
        }
    }
}
