package io.streamingllm.core.session;

import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventStore;
import io.streamingllm.core.summary.Summary;
import io.streamingllm.core.summary.SummaryRepository;

import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * Reads conversations back from the log through {@link ConversationReplay}: whole, for a conversation coming
 * into memory, or from its last events only, to describe an idle one in a listing. Thread-safe.
 */
final class ConversationLoader {
    /** Enough for the newest user message and reply, and the refreshes between them. */
    private static final int TAIL_EVENTS = 16;

    private final EventStore log;
    private final SummaryRepository summaries;
    private final RollingSummary rolling;

    ConversationLoader(EventStore log, SummaryRepository summaries, RollingSummary rolling) {
        this.log = log;
        this.summaries = summaries;
        this.rolling = rolling;
    }

    boolean exists(String conversationId) {
        return log.exists(conversationId);
    }

    /** Rebuilds a conversation's state from its log (and summary file); null when it has no turns. */
    ConversationState load(String conversationId) {
        ConversationReplay replay = new ConversationReplay(conversationId);
        String[] last = new String[1];
        try (Stream<Event> events = log.read(conversationId)) {
            events.forEachOrdered(e -> {
                replay.apply(e);
                last[0] = e.id();
            });
        }
        ConversationState c = replay.state();
        if (c != null) {
            c.lastEventId = last[0];
            if (c.summaryRef != null) {
                rolling.loadInto(c);
            }
        }
        return c;
    }

    /**
     * Whether {@code c} may miss events another process appended since it was read: only a shared store can
     * have them, and then the store's newest event is not the one {@code c} saw last.
     */
    boolean stale(ConversationState c) {
        return log.shared() && !Objects.equals(log.lastEventId(c.id).orElse(null), c.lastEventId);
    }

    /** Whether other processes may append to the store (listings then describe from the store, not memory). */
    boolean shared() {
        return log.shared();
    }

    /**
     * What {@link #load} would report, read from the last events only: every turn logs its number and agent
     * with the user message and its window with the reply; the newest summary ref is the summary file's
     * when the tail holds no refresh. Falls back to a full load for anything unusual.
     */
    ConversationInfo describe(String conversationId) {
        List<Event> tail = log.tail(conversationId, TAIL_EVENTS);
        ConversationReplay replay = new ConversationReplay(conversationId);
        tail.forEach(replay::apply);
        ConversationState c = replay.state();
        if (c == null || !replay.replyWindowKnown()) {
            return infoOf(load(conversationId));
        }
        if (c.summaryRef == null && summaries.exists(conversationId)) {
            try {
                c.summaryRef = summaries.read(conversationId).map(Summary::summaryRef).orElse(null);
            } catch (RuntimeException unreadableOrTampered) {
                return infoOf(load(conversationId)); // rebuilds the summary from the log
            }
        }
        return c.info();
    }

    private static ConversationInfo infoOf(ConversationState c) {
        return c == null ? null : c.info();
    }
}
