package io.streamingllm.core.summary;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Where conversations' rolling summaries are kept: {@link SummaryStore} (markdown files, the default) or the
 * PostgreSQL store. A summary is written before the SUMMARY_REFRESH that names its ref is logged. Thread-safe.
 */
public interface SummaryRepository {

    /** Stores (replaces) a conversation's summary; returns it with its ref. */
    Summary write(String conversationId, String content);

    /** The stored summary; a tampered one throws {@link TamperedSummaryException}. */
    Optional<Summary> read(String conversationId);

    boolean exists(String conversationId);

    /** Takes a conversation's summary out of the live store (into {@code archiveDir} for files); false if none. */
    boolean archive(String conversationId, Path archiveDir);
}
