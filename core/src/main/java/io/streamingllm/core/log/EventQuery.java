package io.streamingllm.core.log;

import java.time.Instant;
import java.util.EnumSet;
import java.util.Set;

/**
 * A page of events to read ({@link EventLog#query}): filters applied while the files are read, never after
 * loading them, and a cursor. Events are in id order, which is creation order: ids are time-ordered (see
 * {@link Event#create}), and each conversation's log holds them in that order.
 *
 * <ul>
 *   <li>{@code since}: events stamped at or after it; {@code after} / {@code before}: events whose id sorts after /
 *       before that id (an event id from an earlier page: the cursor);</li>
 *   <li>{@code types} (empty: any) and {@code visibility} (null: any);</li>
 *   <li>{@code limit}: at most that many events in the page.</li>
 * </ul>
 *
 * With {@code since} or {@code after} the page is the oldest matching events (read forwards: page on with
 * {@code after} = the last id); otherwise it is the newest (read backwards from the end, or from {@code before}:
 * page back with {@code before} = the first id). Either way the page lists its events oldest first. Immutable.
 */
public record EventQuery(Instant since, String after, String before, Set<EventType> types, Visibility visibility,
                         int limit) {
    /** Longest cursor accepted: an id is a UUID (36 characters); anything much longer is not one of ours. */
    public static final int MAX_CURSOR_LENGTH = 128;

    public EventQuery {
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be at least 1, got " + limit);
        }
        requireCursor("after", after);
        requireCursor("before", before);
        types = types == null || types.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(types));
    }

    /** The newest {@code limit} events, of any type. */
    public static EventQuery latest(int limit) {
        return new EventQuery(null, null, null, Set.of(), null, limit);
    }

    public EventQuery withSince(Instant t) {
        return new EventQuery(t, after, before, types, visibility, limit);
    }

    public EventQuery withAfter(String id) {
        return new EventQuery(since, id, before, types, visibility, limit);
    }

    public EventQuery withBefore(String id) {
        return new EventQuery(since, after, id, types, visibility, limit);
    }

    public EventQuery withTypes(Set<EventType> t) {
        return new EventQuery(since, after, before, t, visibility, limit);
    }

    public EventQuery withVisibility(Visibility v) {
        return new EventQuery(since, after, before, types, v, limit);
    }

    /** True when the page is the oldest matching events (a lower bound is given), false for the newest. */
    public boolean forward() {
        return since != null || after != null;
    }

    /** Whether an event passes the filters and cursors. */
    boolean matches(Event e) {
        return (types.isEmpty() || types.contains(e.type()))
                && (visibility == null || e.visibility() == visibility)
                && (since == null || !e.timestamp().isBefore(since))
                && (after == null || e.id().compareTo(after) > 0)
                && (before == null || e.id().compareTo(before) < 0);
    }

    private static void requireCursor(String name, String id) {
        if (id != null && (id.isBlank() || id.length() > MAX_CURSOR_LENGTH)) {
            throw new IllegalArgumentException(name + " must be an event id (1 to " + MAX_CURSOR_LENGTH
                    + " characters), got " + (id.isBlank() ? "a blank one" : id.length() + " characters"));
        }
    }
}
