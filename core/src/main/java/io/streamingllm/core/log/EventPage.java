package io.streamingllm.core.log;

import java.util.List;

/**
 * One page of an {@link EventQuery}: its events, oldest first, and whether more match beyond it (after its last
 * event for a forward query, before its first for a backward one). Immutable.
 */
public record EventPage(List<Event> events, boolean hasMore) {
    public EventPage {
        events = List.copyOf(events);
    }
}
