package io.streamingllm.core.session;

import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventStore;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.session.ConversationIndex.IndexedTurn;
import io.streamingllm.core.session.ExtractiveSummarizer.EvictedTurn;
import io.streamingllm.core.session.payload.AssistantMessage;
import io.streamingllm.core.session.payload.UserMessage;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/**
 * A logged turn's prompt built again from the log alone: the window and summary replayed up to the turn (its own
 * eviction included), and the turns it recalled read back by the ids its USER_MESSAGE logged, so the prompt is the
 * one the engine was sent whatever the search index holds now (missing, rebuilding, or ranking otherwise). Extractive
 * summaries only: an llm-mode summary is the model's text, not in the log. Two passes over the log (the turn, then
 * the replay); for audits and tests, not on a turn's path. Thread-safe: it keeps no state.
 */
final class LoggedPrompt {
    private final SidecarConfig config;
    private final EventStore log;
    private final PromptWindow window;
    private final TokenEstimator tokens;

    LoggedPrompt(SidecarConfig config, EventStore log, PromptWindow window, TokenEstimator tokens) {
        this.config = config;
        this.log = log;
        this.window = window;
        this.tokens = tokens;
    }

    /** Turn {@code turn}'s prompt with {@code sinkText} as its sink; empty when the log has no such turn. */
    Optional<List<ChatMessage>> rebuild(String conversationId, String sinkText, int turn) {
        if (!log.exists(conversationId)) {
            return Optional.empty();
        }
        UserMessage asked = null;
        try (Stream<Event> events = log.read(conversationId)) {
            for (Event e : (Iterable<Event>) events::iterator) {
                if (e.type() == EventType.USER_MESSAGE) {
                    UserMessage u = UserMessage.from(e.payload());
                    if (u.turn() == turn) {
                        asked = u;
                        break;
                    }
                }
            }
        }
        if (asked == null) {
            return Optional.empty();
        }
        Set<String> recalledIds = new HashSet<>(asked.recalledEventIds());
        Map<Integer, UserMessage> recalledUsers = new HashMap<>();
        Map<Integer, String> recalledIdsByTurn = new HashMap<>();
        Map<Integer, AssistantMessage> recalledReplies = new HashMap<>();
        String[] summary = {null};
        ConversationReplay replay = new ConversationReplay(conversationId, evicted -> summary[0] = ExtractiveSummarizer.fold(
                summary[0], evicted.stream().map(t -> new EvictedTurn(t.turn(), t.user(), t.assistant())).toList(),
                config.summarySize(), tokens));
        boolean reached = false;
        try (Stream<Event> events = log.read(conversationId)) {
            for (Event e : (Iterable<Event>) events::iterator) {
                if (reached && e.type() != EventType.SUMMARY_REFRESH) {
                    break; // the turn's opening ends with the refresh of its eviction, if any
                }
                if (e.type() == EventType.USER_MESSAGE && recalledIds.contains(e.id())) {
                    UserMessage u = UserMessage.from(e.payload());
                    recalledUsers.put(u.turn(), u);
                    recalledIdsByTurn.put(u.turn(), e.id());
                } else if (e.type() == EventType.ASSISTANT_MESSAGE) {
                    AssistantMessage a = AssistantMessage.from(e.payload());
                    if (recalledUsers.containsKey(a.turn())) {
                        recalledReplies.put(a.turn(), a);
                    }
                }
                replay.apply(e);
                reached |= e.type() == EventType.USER_MESSAGE && UserMessage.from(e.payload()).turn() == turn;
            }
        }
        ConversationState c = replay.state();
        c.summary = summary[0];
        List<IndexedTurn> recalled = recalledUsers.keySet().stream().sorted().map(n -> new IndexedTurn(n,
                recalledIdsByTurn.get(n), recalledUsers.get(n).fullText(),
                recalledReplies.containsKey(n) ? recalledReplies.get(n).fullText() : "", 0, true, false, false)).toList();
        return Optional.of(window.prompt(c, sinkText, Recall.render(recalled), asked.content(), asked.toolResults()));
    }
}
