package io.streamingllm.core.session;

import io.streamingllm.core.session.ConversationIndex.IndexedTurn;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Chooses the evicted turns a prompt recalls: the turns the index ranks most relevant to the new message, whole,
 * never one still in the window, a tool call always with the turns that carry its results (and the other way
 * round), as many as fit {@code STREAMING_LLM_RECALL_SIZE} tokens, put in conversation order. The choice is
 * logged with the turn's user message ({@code recalled_event_ids}); {@link #render} writes the block the same
 * way whether the turns come from the index now or from the log later. Thread-safe: it keeps no state.
 */
final class Recall {
    private static final System.Logger LOG = System.getLogger(Recall.class.getName());
    /** Candidates asked of the index: the budget rarely holds more than a handful of turns. */
    private static final int CANDIDATES = 8;
    /** How far a tool loop is followed either side of a recalled turn. */
    private static final int TOOL_REACH = 8;
    static final String HEADER = "Earlier turns of this conversation, recalled because they bear on the new message:";

    /** The turns chosen and the block that puts them in the prompt; {@link #NONE} when nothing is recalled. */
    record Recalled(List<IndexedTurn> turns, String block, int tokens) {
        static final Recalled NONE = new Recalled(List.of(), "", 0);

        List<String> eventIds() {
            return turns.stream().map(IndexedTurn::userEventId).toList();
        }
    }

    private final ConversationIndex index;
    private final TokenEstimator tokens;
    private final int budget;

    Recall(ConversationIndex index, TokenEstimator tokens, int budget) {
        this.index = index;
        this.tokens = tokens;
        this.budget = budget;
    }

    /** The turns of {@code c} (its window already made room for the new message) to recall for {@code userText}. */
    Recalled choose(ConversationState c, String userText, int newTurn) {
        if (budget <= 0 || c.evictedTurns == 0 || userText.isBlank()) {
            return Recalled.NONE;
        }
        int firstInWindow = c.recent.isEmpty() ? newTurn : c.recent.peekFirst().turn();
        List<IndexedTurn> ranked;
        try {
            ranked = index.relevantTurns(c.id, userText, firstInWindow, CANDIDATES);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "recall for " + c.id + " skipped: the index failed: " + e);
            return Recalled.NONE;
        }
        Map<Integer, IndexedTurn> chosen = new TreeMap<>();
        String block = "";
        int used = 0;
        for (IndexedTurn t : ranked) {
            if (chosen.containsKey(t.turn())) {
                continue;
            }
            List<IndexedTurn> group = withToolPartners(c.id, t, firstInWindow);
            if (group.isEmpty() || !group.stream().allMatch(IndexedTurn::completed)) {
                continue;
            }
            Map<Integer, IndexedTurn> trial = new TreeMap<>(chosen);
            group.forEach(g -> trial.put(g.turn(), g));
            String trialBlock = render(List.copyOf(trial.values()));
            int trialTokens = tokens.count(trialBlock);
            if (trialTokens <= budget) {
                chosen = trial;
                block = trialBlock;
                used = trialTokens;
            }
        }
        return chosen.isEmpty() ? Recalled.NONE : new Recalled(List.copyOf(chosen.values()), block, used);
    }

    /**
     * The turn with the turns its tool calls and results tie it to: back while a turn hands back results of the one
     * before, forward while a turn calls tools; empty when the group reaches into the window or is not all indexed.
     */
    private List<IndexedTurn> withToolPartners(String conversationId, IndexedTurn t, int firstInWindow) {
        if (!t.callsTools() && !t.carriesResults()) {
            return List.of(t);
        }
        List<IndexedTurn> around = index.turns(conversationId, Math.max(1, t.turn() - TOOL_REACH),
                t.turn() + TOOL_REACH);
        Map<Integer, IndexedTurn> byTurn = new TreeMap<>();
        around.forEach(a -> byTurn.put(a.turn(), a));
        int from = t.turn();
        while (byTurn.containsKey(from) && byTurn.get(from).carriesResults()) {
            from--;
        }
        int to = t.turn();
        while (byTurn.containsKey(to) && byTurn.get(to).callsTools()) {
            to++;
        }
        if (to >= firstInWindow) {
            return List.of();
        }
        List<IndexedTurn> group = new ArrayList<>();
        for (int n = from; n <= to; n++) {
            IndexedTurn g = byTurn.get(n);
            if (g == null) {
                return List.of();
            }
            group.add(g);
        }
        group.sort(Comparator.comparingInt(IndexedTurn::turn));
        return group;
    }

    /** The recall block of the prompt: a header, then each turn's sides labelled with its number. */
    static String render(List<IndexedTurn> turns) {
        if (turns.isEmpty()) {
            return "";
        }
        StringBuilder sb = new StringBuilder(HEADER);
        for (IndexedTurn t : turns) {
            if (!t.user().isEmpty()) {
                sb.append("\n[turn ").append(t.turn()).append("] User: ").append(t.user());
            }
            if (!t.assistant().isEmpty()) {
                sb.append("\n[turn ").append(t.turn()).append("] Assistant: ").append(t.assistant());
            }
        }
        return sb.toString();
    }
}
