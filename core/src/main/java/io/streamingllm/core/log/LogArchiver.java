package io.streamingllm.core.log;

import io.streamingllm.core.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Moves a conversation's log out of the live directory, so that nothing brings it back: the file is forced and
 * the journal's {@link JournalRecord#ARCHIVED} marker durable before it moves (replay drops the conversation's
 * earlier records). Runs on the caller's thread holding the conversation's lock.
 */
final class LogArchiver {
    private final LogLayout layout;
    private final WriteChannels channels;
    private final Journal journal;

    LogArchiver(LogLayout layout, WriteChannels channels, Journal journal) {
        this.layout = layout;
        this.channels = channels;
        this.journal = journal;
    }

    /** See {@link EventLog#archive}. */
    boolean archive(ConversationFile c, Path archiveDir) {
        Path file = layout.file(c.id);
        boolean interrupted = Thread.interrupted(); // file I/O below must not be cut by an interrupt
        c.lock.lock();
        try {
            channels.release(c);
            c.checked = false;
            c.end = -1;
            if (!Files.isRegularFile(file)) {
                return false;
            }
            try {
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    ch.force(true);
                }
                awaitArchivedMarker(c.id);
                Path moved = AtomicFiles.moveToArchive(file, archiveDir, c.id, LogLayout.SUFFIX);
                Path corrupt = layout.corruptFile(c.id);
                if (Files.isRegularFile(corrupt)) {
                    String stem = moved.getFileName().toString();
                    stem = stem.substring(0, stem.length() - LogLayout.SUFFIX.length());
                    AtomicFiles.moveToArchive(corrupt, archiveDir, stem, ".corrupt");
                }
                return true;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot archive " + file + " to " + archiveDir + ": " + e.getMessage(), e);
            }
        } finally {
            c.lock.unlock();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void awaitArchivedMarker(String conversationId) throws IOException {
        CompletableFuture<Void> marker;
        try {
            marker = journal.archived(conversationId);
        } catch (IllegalStateException closedJournal) {
            return; // closed: its checkpoint covered every record, nothing is left to replay
        }
        try {
            marker.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw e;
        }
    }
}
