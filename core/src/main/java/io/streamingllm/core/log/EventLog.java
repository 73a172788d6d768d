package io.streamingllm.core.log;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Durable per-conversation JSONL event logs under one directory ({@code LOG_DIR/{conversation_id}.jsonl}).
 * {@link #append} returns only after the bytes are on disk; concurrent appends share fsyncs.
 */
public final class EventLog implements AutoCloseable {
    public EventLog(Path logDir) {
        throw new UnsupportedOperationException("TODO(issue 2)");
    }

    /** Appends one event durably (fsync'd before return). */
    public Event append(Event event) {
        throw new UnsupportedOperationException("TODO(issue 2)");
    }

    /** Appends events of one conversation durably, adjacent in the file, in order. */
    public List<Event> appendAll(List<Event> events) {
        throw new UnsupportedOperationException("TODO(issue 2)");
    }

    /** All events of a conversation, chronological, streamed from the file. Close the stream. */
    public Stream<Event> read(String conversationId) {
        throw new UnsupportedOperationException("TODO(issue 2)");
    }

    /** The last {@code limit} events of a conversation, chronological. */
    public List<Event> tail(String conversationId, int limit) {
        throw new UnsupportedOperationException("TODO(issue 2)");
    }

    /** Events at or after {@code instant} across conversations, chronological. Close the stream. */
    public Stream<Event> since(Instant instant) {
        throw new UnsupportedOperationException("TODO(issue 2)");
    }

    /** Events of the given types (all when empty) and visibility (any when null). Close the stream. */
    public Stream<Event> byType(Set<EventType> types, Visibility visibility) {
        throw new UnsupportedOperationException("TODO(issue 2)");
    }

    /** Ids of the conversations that have a live log. */
    public List<String> conversationIds() {
        throw new UnsupportedOperationException("TODO(issue 2)");
    }

    public boolean exists(String conversationId) {
        throw new UnsupportedOperationException("TODO(issue 2)");
    }

    /** Moves a conversation's log into {@code archiveDir}; false if it had none. */
    public boolean archive(String conversationId, Path archiveDir) {
        throw new UnsupportedOperationException("TODO(issue 2)");
    }

    @Override
    public void close() {
    }
}
