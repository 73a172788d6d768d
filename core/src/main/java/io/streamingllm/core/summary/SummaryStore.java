package io.streamingllm.core.summary;

import io.streamingllm.core.log.Event;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Markdown summaries, {@code SUMMARY_DIR/{conversation_id}.md}, first line {@code <!-- summary_ref:SHA256 -->}. */
public final class SummaryStore {
    public SummaryStore(Path summaryDir) {
        throw new UnsupportedOperationException("TODO(issue 2)");
    }

    /** Deterministic markdown bullets grouped by event type (types sorted, events in order). */
    public static Summary rollingSummary(String conversationId, List<Event> events) {
        throw new UnsupportedOperationException("TODO(issue 2)");
    }

    /** Writes atomically; returns the stored summary with its ref. */
    public Summary write(String conversationId, String content) {
        throw new UnsupportedOperationException("TODO(issue 2)");
    }

    /** Reads and verifies the ref; a tampered file throws {@link TamperedSummaryException}. */
    public Optional<Summary> read(String conversationId) {
        throw new UnsupportedOperationException("TODO(issue 2)");
    }

    /** Moves a conversation's summary into {@code archiveDir}; false if it had none. */
    public boolean archive(String conversationId, Path archiveDir) {
        throw new UnsupportedOperationException("TODO(issue 2)");
    }
}
