package io.streamingllm.core.session;

import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.session.payload.WindowState;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The resident state of one conversation: only what the next prompt needs (the recent window and the
 * summary), never its whole history, so memory per conversation is bounded by the window.
 * Mutated only by the turn that holds {@link #busy} (and by the llm rewrite that turn scheduled, which the
 * next turn waits for); built from the log by {@link ConversationReplay}.
 */
final class ConversationState {
    final String id;
    final String agentId;
    final AtomicBoolean busy = new AtomicBoolean();
    final ArrayDeque<RecentTurn> recent = new ArrayDeque<>();
    int turns;
    int recentTokens;
    int evictedTurns;
    String summary;
    String summaryRef;
    int summaryTokens;
    WindowState lastWindow = WindowState.EMPTY;
    /**
     * The calls of the newest reply when it ended with {@code tool_calls}: what a continuation's results must answer.
     * Empty once a user turn opens (the calls are then left unanswered) or a reply calls nothing.
     */
    List<ToolCall> pendingCalls = List.of();
    /**
     * The summary bullets of the client history's turns the newest relayed call evicted (its client sends them
     * again with the next call); used only while the conversation is held for a turn.
     */
    final ExtractiveSummarizer.Bullets relayedBullets = new ExtractiveSummarizer.Bullets();

    /**
     * The id of the newest event of this conversation this process has read or appended (null: none); with a
     * store other processes append to, a different newest id in the store means this state is stale.
     */
    volatile String lastEventId;
    /** The llm-mode summary rewrite scheduled after a turn; the next turn waits for it. */
    CompletableFuture<Void> pendingSummary = CompletableFuture.completedFuture(null);

    ConversationState(String id, String agentId) {
        this.id = id;
        this.agentId = agentId;
    }

    void addRecent(RecentTurn turn) {
        recent.addLast(turn);
        recentTokens += turn.tokens();
    }

    /**
     * Evicts the oldest turns when {@code newTokens} more would overflow {@code window}: down to
     * {@code target} (the hysteresis that keeps the prompt prefix stable for several turns).
     */
    List<RecentTurn> evictFor(int newTokens, int window, int target) {
        return evictFor(newTokens, window, target, false);
    }

    /**
     * As above; a turn that answers an evicted turn's calls with results leaves with it (a call and its results
     * are kept or evicted together), and when the new message is a {@code continuation} the newest turn, whose
     * calls it answers, stays.
     */
    List<RecentTurn> evictFor(int newTokens, int window, int target, boolean continuation) {
        List<RecentTurn> evicted = new ArrayList<>();
        if (recentTokens + newTokens <= window) {
            return evicted;
        }
        int keep = continuation ? 1 : 0;
        while (recent.size() > keep && recentTokens + newTokens > target) {
            evicted.add(removeOldest());
            while (recent.size() > keep && recent.peekFirst().continuation()) {
                evicted.add(removeOldest());
            }
        }
        evictedTurns += evicted.size();
        return evicted;
    }

    /** Replays a logged eviction: removes the oldest turns while they are among {@code userEventIds}. */
    List<RecentTurn> evictLogged(List<String> userEventIds) {
        List<RecentTurn> evicted = new ArrayList<>();
        while (!recent.isEmpty() && userEventIds.contains(recent.peekFirst().userEventId())) {
            evicted.add(removeOldest());
        }
        return evicted;
    }

    private RecentTurn removeOldest() {
        RecentTurn t = recent.removeFirst();
        recentTokens -= t.tokens();
        return t;
    }

    void summarised(String text, String ref, int tokens) {
        summary = text;
        summaryRef = ref;
        summaryTokens = tokens;
    }

    /** The window of a prompt built now for a new message of {@code newTokens}. */
    WindowState window(int sinkTokens, int newTokens) {
        return new WindowState(sinkTokens, summary == null ? 0 : summaryTokens, recentTokens + newTokens, evictedTurns);
    }

    ConversationInfo info() {
        return new ConversationInfo(id, agentId, turns, lastWindow, summaryRef);
    }
}
