package io.streamingllm.core.session;

import io.streamingllm.core.agent.AgentStore;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.TokenSink;
import io.streamingllm.core.log.EventLog;
import io.streamingllm.core.summary.Summary;
import io.streamingllm.core.summary.SummaryStore;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Endless conversations at constant cost: each turn's prompt is
 * {@code [sink][summary][recent turns][new user turn]} within the configured budget.
 * One turn at a time per conversation. Thread-safe.
 */
public final class ChatService implements AutoCloseable {
    public ChatService(SidecarConfig config, ModelEngine engine, AgentStore agents, EventLog log,
                       SummaryStore summaries) {
        throw new UnsupportedOperationException("TODO(issue 3)");
    }

    /**
     * Starts a turn: logs the user message durably, builds the windowed prompt and streams the reply to
     * {@code sink}. Throws {@link SessionException} (busy, unknown agent, bad id) before anything is logged.
     */
    public Turn startTurn(TurnRequest request, TokenSink sink) {
        throw new UnsupportedOperationException("TODO(issue 3)");
    }

    /** Ollama-compatible call: applies the window to the client's messages; logs when it names a conversation. */
    public Turn relay(RelayRequest request, TokenSink sink) {
        throw new UnsupportedOperationException("TODO(issue 3)");
    }

    public List<ConversationInfo> conversations() {
        throw new UnsupportedOperationException("TODO(issue 3)");
    }

    public Optional<ConversationInfo> conversation(String conversationId) {
        throw new UnsupportedOperationException("TODO(issue 3)");
    }

    /** The conversation's summary; empty before its first eviction. */
    public Optional<Summary> summary(String conversationId) {
        throw new UnsupportedOperationException("TODO(issue 3)");
    }

    /** Moves log and summary to the archive; false if unknown; {@link SessionException} BUSY mid-turn. */
    public boolean archive(String conversationId) {
        throw new UnsupportedOperationException("TODO(issue 3)");
    }

    /** Turns under way now. */
    public int activeTurns() {
        throw new UnsupportedOperationException("TODO(issue 3)");
    }

    public ModelEngine engine() {
        throw new UnsupportedOperationException("TODO(issue 3)");
    }

    /**
     * Refuses new turns, lets turns under way finish for up to {@code grace}, then cancels the rest and
     * waits until their events are durable.
     */
    public void shutdown(Duration grace) {
        throw new UnsupportedOperationException("TODO(issue 3)");
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }
}
