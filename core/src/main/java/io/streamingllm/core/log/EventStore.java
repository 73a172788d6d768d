package io.streamingllm.core.log;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.LongConsumer;
import java.util.stream.Stream;

/**
 * Where conversations' events are kept: the storage seam under the sessions and the event routes. {@link EventLog}
 * (journal + JSONL files, the default) and the PostgreSQL store implement it with one contract: an append returns
 * only once its events are durable (committed), concurrent appends share commits, and each conversation's events
 * read back in the order they were appended. Implementations are thread-safe.
 */
public interface EventStore extends AutoCloseable {

    /** Appends one event durably (durable before return). */
    Event append(Event event);

    /** Appends events of one conversation durably, adjacent, in order. */
    List<Event> appendAll(List<Event> events);

    /** All events of a conversation, in append order. Close the stream. */
    Stream<Event> read(String conversationId);

    /** The last {@code limit} events of a conversation, oldest first. */
    List<Event> tail(String conversationId, int limit);

    /** Events stamped at or after {@code instant}, across conversations, in id order. Close the stream. */
    Stream<Event> since(Instant instant);

    /** One page of events across conversations (see {@link EventQuery}). */
    EventPage query(EventQuery query);

    /** One page of one conversation's events; empty when it has none. */
    EventPage query(String conversationId, EventQuery query);

    /** Events of the given types (all when empty or null) and visibility (any when null), conversation by conversation. */
    Stream<Event> byType(Set<EventType> types, Visibility visibility);

    /** Ids of the conversations that have events, sorted. */
    List<String> conversationIds();

    boolean exists(String conversationId);

    /** Takes a conversation's events out of the live store (into {@code archiveDir} for files); false if it had none. */
    boolean archive(String conversationId, Path archiveDir);

    /** Whether appends can be made now, and if not why. */
    LogHealth health();

    /** Called after each group commit with the nanoseconds it took (for metrics). */
    void onFsync(LongConsumer listener);

    /**
     * The id of the conversation's newest event; empty when it has none. A process that shares the store with
     * others compares it with what it last saw before it builds a prompt.
     */
    default Optional<String> lastEventId(String conversationId) {
        List<Event> last = tail(conversationId, 1);
        return last.isEmpty() ? Optional.empty() : Optional.of(last.getFirst().id());
    }

    /** True when other processes may append to this store (their appends must be looked for); false for files. */
    default boolean shared() {
        return false;
    }

    @Override
    void close();
}
