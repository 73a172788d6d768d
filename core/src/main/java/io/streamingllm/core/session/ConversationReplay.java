package io.streamingllm.core.session;

import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.log.Event;
import io.streamingllm.core.session.payload.AssistantMessage;
import io.streamingllm.core.session.payload.SummaryRefresh;
import io.streamingllm.core.session.payload.UserMessage;

import java.util.List;
import java.util.function.Consumer;

/**
 * The one reading of a conversation's log into its {@link ConversationState}, applied event by event in log
 * order: the whole log when a conversation is loaded, its last events when it is listed, and the whole log
 * again when its summary is rebuilt (each refresh hands the turns it evicted to a listener). The state it
 * gives is the state the live conversation had after the same events.
 *
 * <p>A reply belongs to the user message before it when both carry the same turn number; a refresh evicts
 * the oldest recent turns it names. A log's first event is a user message, but a tail may begin inside a
 * turn: a refresh before the first user message still says which summary the conversation has.
 *
 * <p>Not thread-safe: one replay belongs to one thread.
 */
final class ConversationReplay {
    private final String conversationId;
    private final Consumer<List<RecentTurn>> onRefresh;
    private ConversationState state;
    private Event pendingUser;
    private UserMessage pendingUserMessage;
    private SummaryRefresh refreshBeforeFirstUser;
    private boolean replyWindowKnown;

    ConversationReplay(String conversationId) {
        this(conversationId, evicted -> { });
    }

    /** @param onRefresh gets, at every SUMMARY_REFRESH, the turns it evicted (empty for an llm rewrite) */
    ConversationReplay(String conversationId, Consumer<List<RecentTurn>> onRefresh) {
        this.conversationId = conversationId;
        this.onRefresh = onRefresh;
    }

    void apply(Event e) {
        switch (e.type()) {
            case USER_MESSAGE -> user(e);
            case ASSISTANT_MESSAGE -> reply(AssistantMessage.from(e.payload()));
            case SUMMARY_REFRESH -> refresh(SummaryRefresh.from(e.payload()));
            case ERROR -> {
            }
        }
    }

    /** The state after the events applied so far; null before the first user message. */
    ConversationState state() {
        return state;
    }

    /** Whether the newest reply applied carried its window (every reply this service logs does). */
    boolean replyWindowKnown() {
        return replyWindowKnown;
    }

    private void user(Event e) {
        UserMessage u = UserMessage.from(e.payload());
        if (state == null) {
            state = new ConversationState(conversationId, u.agentId() != null ? u.agentId() : ChatService.RELAY_AGENT);
            if (refreshBeforeFirstUser != null) {
                adopt(refreshBeforeFirstUser, 0);
            }
        }
        state.turns = u.turn() == 0 ? state.turns + 1 : Math.max(state.turns, u.turn());
        if (u.toolResults().isEmpty()) {
            state.pendingCalls = List.of(); // a user turn leaves the calls before it unanswered, as it did live
        }
        pendingUser = e;
        pendingUserMessage = u;
    }

    private void reply(AssistantMessage a) {
        UserMessage u = pendingUserMessage;
        if (u == null || u.turn() == 0 || u.turn() != a.turn()) {
            return;
        }
        replyWindowKnown = a.window() != null;
        if (replyWindowKnown) {
            state.lastWindow = a.window();
        }
        if (RecentTurn.entersWindow(a.finishReason())) {
            state.addRecent(new RecentTurn(u.turn(), pendingUser.id(), u.content(), a.content(), u.tokens() + a.tokens(),
                    u.toolResults(), a.toolCalls()));
            state.pendingCalls = a.finishReason() == FinishReason.TOOL_CALLS ? a.toolCalls() : List.of();
        }
        pendingUser = null;
        pendingUserMessage = null;
    }

    private void refresh(SummaryRefresh r) {
        if (state == null) {
            refreshBeforeFirstUser = r;
            onRefresh.accept(List.of());
            return;
        }
        List<RecentTurn> evicted = state.evictLogged(r.evictedEventIds());
        adopt(r, r.evictedEventIds().size());
        onRefresh.accept(evicted);
    }

    private void adopt(SummaryRefresh r, int evictedNow) {
        state.evictedTurns = r.evictedTurns() != SummaryRefresh.NOT_RECORDED ? r.evictedTurns()
                : state.evictedTurns + evictedNow;
        state.summaryRef = r.summaryRef();
        state.summaryTokens = r.summaryTokens();
    }
}
