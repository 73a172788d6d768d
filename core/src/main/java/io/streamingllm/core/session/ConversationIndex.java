package io.streamingllm.core.session;

import io.streamingllm.core.log.Event;

import java.util.List;

/**
 * The seam between sessions and a search index over the log ({@code io.streamingllm.core.recall}): sessions tell
 * it what they appended once the append returned (so it holds only durable events) and what they archived, and ask
 * it for the turns of a conversation most relevant to a new message. The log stays the source of truth: an index
 * may lag, or be rebuilt from the log while it answers. Implementations are thread-safe and never fail a turn:
 * an index that cannot take an event logs why and catches up from the log later.
 */
public interface ConversationIndex {
    /** An index that holds nothing: recall finds nothing. */
    ConversationIndex NONE = new ConversationIndex() {
        @Override
        public void appended(List<Event> events) {
        }

        @Override
        public void removed(String conversationId) {
        }

        @Override
        public List<IndexedTurn> relevantTurns(String conversationId, String text, int beforeTurn, int max) {
            return List.of();
        }

        @Override
        public List<IndexedTurn> turns(String conversationId, int fromTurn, int toTurn) {
            return List.of();
        }
    };

    /** Events of one conversation, in log order, just appended durably. */
    void appended(List<Event> events);

    /** The conversation's log left (archived): its turns are no longer found. */
    void removed(String conversationId);

    /**
     * Up to {@code max} whole turns of the conversation numbered below {@code beforeTurn} that match {@code text},
     * most relevant first (BM25 over both sides of each turn); turns indexed moments ago may not be searched yet.
     */
    List<IndexedTurn> relevantTurns(String conversationId, String text, int beforeTurn, int max);

    /**
     * As {@link #relevantTurns}, but over every turn indexed so far even where a recall would not wait for it: the
     * model's own search ({@code conversation_search}), which is worth a refresh.
     */
    default List<IndexedTurn> searchTurns(String conversationId, String text, int beforeTurn, int max) {
        return relevantTurns(conversationId, text, beforeTurn, max);
    }

    /** The conversation's indexed turns numbered {@code fromTurn} to {@code toTurn}, in order. */
    List<IndexedTurn> turns(String conversationId, int fromTurn, int toTurn);

    /**
     * One turn as the index holds it: both sides as text (tool calls and results written out in full), its tokens as
     * logged, and what it takes to keep tool calls with their results.
     *
     * @param userEventId   its USER_MESSAGE id
     * @param tokens        both sides' tokens as counted when logged
     * @param completed     whether its reply ended normally (stop, length, tool_calls): only those entered the window
     * @param callsTools    its reply called tools: their results come with the next turn's user message
     * @param carriesResults its user message hands back results of the previous turn's calls
     */
    record IndexedTurn(int turn, String userEventId, String user, String assistant, int tokens, boolean completed,
                       boolean callsTools, boolean carriesResults) {
    }
}
