package io.streamingllm.core.session;

import io.streamingllm.core.Ids;
import io.streamingllm.core.InvalidIdException;
import io.streamingllm.core.agent.Agent;
import io.streamingllm.core.agent.AgentRepository;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.TokenListener;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.engine.ToolOptions;
import io.streamingllm.core.log.EventStore;
import io.streamingllm.core.log.LogHealth;
import io.streamingllm.core.store.Store;
import io.streamingllm.core.store.TurnLocks;
import io.streamingllm.core.summary.Summary;
import io.streamingllm.core.summary.SummaryRepository;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Endless conversations at constant cost: each turn's prompt is
 * {@code [sink][summary][recall][recent turns][new user turn]} within the configured budget (recall: the evicted
 * turns most relevant to the new message, found by the {@link ConversationIndex}).
 * One turn at a time per conversation. Thread-safe.
 *
 * <p>The log is the source of truth: a conversation's resident state (window and summary) is rebuilt
 * from its events, so idle conversations can leave memory and come back unchanged. Which thread runs what
 * during a turn, and what is durable when, is in the package documentation.
 */
public final class ChatService implements AutoCloseable {
    /**
     * Agent id recorded for relayed conversations, whose prompt is the client's history: those started through the
     * Ollama-compatible routes and, under the same id, the OpenAI-compatible ones ({@code /v1}).
     */
    public static final String RELAY_AGENT = "ollama-api";
    /** Idle conversations kept in memory before the least recently used leave. */
    public static final int DEFAULT_MAX_RESIDENT = 4096;

    private final SidecarConfig config;
    private final ModelEngine engine;
    private final AgentRepository agents;
    private final EventStore log;
    private final SummaryRepository summaries;
    private final ConversationLoader loader;
    private final ResidentConversations residency;
    private final PromptWindow window;
    private final TurnRunner turns;
    private final ConversationIndex index;
    private final LoggedPrompt loggedPrompts;

    public ChatService(SidecarConfig config, ModelEngine engine, AgentRepository agents, EventStore log,
                       SummaryRepository summaries) {
        this(config, engine, agents, log, summaries, DEFAULT_MAX_RESIDENT);
    }

    /** @param maxResident how many idle conversations stay in memory before the least recently used leave */
    public ChatService(SidecarConfig config, ModelEngine engine, AgentRepository agents, EventStore log,
                       SummaryRepository summaries, int maxResident) {
        this(config, engine, agents, log, summaries, maxResident, ConversationIndex.NONE);
    }

    /**
     * @param index told of every append once it returned and of every archive; asked for the evicted turns a prompt
     *              recalls ({@code STREAMING_LLM_RECALL_SIZE})
     */
    public ChatService(SidecarConfig config, ModelEngine engine, AgentRepository agents, EventStore log,
                       SummaryRepository summaries, int maxResident, ConversationIndex index) {
        this(config, engine, agents, log, summaries, TurnLocks.LOCAL, maxResident, index);
    }

    /** Over a {@link Store}: its events, summaries, agents and cross-process turn locks. */
    public ChatService(SidecarConfig config, ModelEngine engine, Store store) {
        this(config, engine, store, ConversationIndex.NONE);
    }

    /** Over a {@link Store}, with the index recall and search use. */
    public ChatService(SidecarConfig config, ModelEngine engine, Store store, ConversationIndex index) {
        this(config, engine, store.agents(), store.events(), store.summaries(), store.locks(), DEFAULT_MAX_RESIDENT, index);
    }

    private ChatService(SidecarConfig config, ModelEngine engine, AgentRepository agents, EventStore log,
                        SummaryRepository summaries, TurnLocks locks, int maxResident, ConversationIndex index) {
        this.config = config;
        this.index = index;
        this.engine = engine;
        this.agents = agents;
        this.log = log;
        this.summaries = summaries;
        TokenEstimator tokens = new TokenEstimator(engine.exactTokenCounter().orElse(null));
        RollingSummary summary = new RollingSummary(config, engine, log, summaries, tokens);
        this.loader = new ConversationLoader(log, summaries, summary);
        this.residency = new ResidentConversations(loader, locks, maxResident);
        this.window = new PromptWindow(config, tokens);
        this.turns = new TurnRunner(config, engine, log, tokens, window, summary, residency, index);
        this.loggedPrompts = new LoggedPrompt(config, log, window, tokens);
    }

    /**
     * Starts a turn: logs the user message durably, builds the windowed prompt and streams the reply to
     * {@code listener}. Throws {@link SessionException} (busy, unknown agent, bad request),
     * {@link InvalidIdException} or {@link EngineException} BAD_REQUEST (options the
     * engine cannot honour) before anything is logged.
     */
    public Turn startTurn(TurnRequest request, TokenListener listener) {
        if (request == null) {
            throw new SessionException(SessionException.Kind.BAD_REQUEST, "missing turn request");
        }
        boolean continuation = request.continuation();
        String agentRef = request.agentId();
        if (continuation && (agentRef == null || agentRef.isBlank())) {
            agentRef = existing(request.conversationId()).agentId; // a continuation may leave the agent implied
        }
        if (agentRef == null || agentRef.isBlank()) {
            throw new SessionException(SessionException.Kind.BAD_REQUEST, "agent_id is required");
        }
        String agentId = Ids.require("agent", agentRef);
        Agent agent = agents.get(agentId).orElseThrow(() -> new SessionException(
                SessionException.Kind.UNKNOWN_AGENT, "unknown agent: " + agentId));
        String text;
        String conversationId;
        if (continuation) {
            if (request.userMessage() != null && !request.userMessage().isEmpty()) {
                throw new SessionException(SessionException.Kind.BAD_REQUEST,
                        "a turn carries either user_message or tool_results, not both");
            }
            text = "";
            conversationId = existing(request.conversationId()).id;
        } else {
            text = requireMessage(request.userMessage());
            conversationId = conversationIdOrNew(request.conversationId());
        }
        GenerationOptions options = withAgentTools(request.options(), agent);
        requireSupported(options);
        turns.requireOpen();
        requireLogWritable();
        ConversationState c = residency.acquire(conversationId, agentId, true);
        try {
            List<ChatMessage> results = continuation ? answers(c, request.toolResults()) : List.of();
            return turns.startOwn(c, PromptWindow.sinkText(agent), text, results, options, listener);
        } catch (RuntimeException e) {
            residency.release(c);
            throw e;
        }
    }

    /** The conversation a continuation names; it must have turns. */
    private ConversationState existing(String conversationId) {
        if (conversationId == null || conversationId.isEmpty() || conversationId.equals("new")) {
            throw new SessionException(SessionException.Kind.BAD_REQUEST,
                    "tool_results continue a conversation: conversation_id is required");
        }
        ConversationState c = residency.find(Ids.require("conversation", conversationId));
        if (c == null) {
            throw new SessionException(SessionException.Kind.BAD_REQUEST, "tool_results: conversation "
                    + conversationId + " does not exist, so no tool call of it waits for a result");
        }
        return c;
    }

    /** The agent's tools, offered in every turn of its conversations unless the request brings its own. */
    private static GenerationOptions withAgentTools(GenerationOptions requested, Agent agent) {
        GenerationOptions o = requested == null ? GenerationOptions.DEFAULTS : requested;
        if (agent.tools().isEmpty() || !o.tools().definitions().isEmpty()) {
            return requested;
        }
        return o.withTools(new ToolOptions(agent.tools(), ToolOptions.Choice.AUTO, null, null));
    }

    /**
     * The results of a continuation, matched to the calls the conversation's newest reply made: one result per call,
     * in the calls' order, each named after its call's function. A result for an id no waiting call has, a second
     * result for one call, or a call left without a result is a BAD_REQUEST naming it.
     */
    private static List<ChatMessage> answers(ConversationState c, List<ChatMessage> results) {
        if (c.pendingCalls.isEmpty()) {
            throw new SessionException(SessionException.Kind.BAD_REQUEST, "tool_results: conversation " + c.id
                    + " has no tool call waiting for a result (its newest reply called no tools)");
        }
        Map<String, ChatMessage> byId = new LinkedHashMap<>();
        for (int i = 0; i < results.size(); i++) {
            ChatMessage r = results.get(i);
            String id = r.toolCallId();
            if (id == null || id.isBlank()) {
                throw new SessionException(SessionException.Kind.BAD_REQUEST, "tool_results[" + i + "].id is required");
            }
            if (c.pendingCalls.stream().noneMatch(call -> call.id().equals(id))) {
                throw new SessionException(SessionException.Kind.BAD_REQUEST, "tool_results[" + i + "].id " + id
                        + " answers no call of the newest reply (waiting: "
                        + String.join(", ", c.pendingCalls.stream().map(ToolCall::id).toList()) + ")");
            }
            if (byId.putIfAbsent(id, r) != null) {
                throw new SessionException(SessionException.Kind.BAD_REQUEST, "tool_results[" + i + "].id " + id
                        + " is answered twice");
            }
        }
        List<ChatMessage> ordered = new ArrayList<>(c.pendingCalls.size());
        for (ToolCall call : c.pendingCalls) {
            ChatMessage r = byId.get(call.id());
            if (r == null) {
                throw new SessionException(SessionException.Kind.BAD_REQUEST, "tool_results: no result for call "
                        + call.id() + " (" + call.name() + "); every call of the newest reply needs one");
            }
            ordered.add(ChatMessage.toolResult(call.id(), call.name(), r.content()));
        }
        return ordered;
    }

    /** Ollama-compatible call: applies the window to the client's messages; logs when it names a conversation. */
    public Turn relay(RelayRequest request, TokenListener listener) {
        if (request == null || request.messages() == null || request.messages().isEmpty()) {
            throw new SessionException(SessionException.Kind.BAD_REQUEST, "messages must not be empty");
        }
        StringBuilder sinkText = new StringBuilder();
        List<ChatMessage> dialogue = new ArrayList<>();
        for (ChatMessage m : request.messages()) {
            if (m == null) {
                throw new SessionException(SessionException.Kind.BAD_REQUEST, "messages must not contain null");
            }
            if (m.role() == ChatMessage.Role.SYSTEM) {
                sinkText.append(sinkText.isEmpty() ? "" : "\n\n").append(m.content());
            } else {
                dialogue.add(m);
            }
        }
        if (dialogue.isEmpty()) {
            throw new SessionException(SessionException.Kind.BAD_REQUEST, "messages need at least one user or assistant message");
        }
        requireSupported(request.options());
        ToolOptions tools = request.options() == null ? ToolOptions.NONE : request.options().tools();
        ChatMessage newest = dialogue.get(dialogue.size() - 1);
        // tool results are logged as such with the turn (UserMessage.toolResults), not as the user's words
        String lastUser = newest.role() == ChatMessage.Role.TOOL ? "" : newest.content();
        if (request.conversationId() == null) {
            PromptWindow.RelayedWindow prompt = window.relayedWindow(sinkText.toString(), tools, dialogue);
            return turns.startUnlogged(prompt, request.options(), sinkText.toString(), listener,
                    () -> window.smallerRelayed(sinkText.toString(), tools, dialogue, prompt));
        }
        String conversationId = Ids.require("conversation", request.conversationId());
        turns.requireOpen();
        requireLogWritable();
        ConversationState c = residency.acquire(conversationId, RELAY_AGENT, false);
        try {
            // windowed while the conversation is held: its bullets of the turns the client sends again are reused
            PromptWindow.RelayedWindow prompt = window.relayedWindow(sinkText.toString(), tools, dialogue, c.relayedBullets);
            Supplier<PromptWindow.RelayedWindow> smaller = () -> window.smallerRelayed(sinkText.toString(), tools, dialogue, prompt);
            return turns.start(c, sinkText.toString(), lastUser, prompt, request.options(), listener, smaller);
        } catch (RuntimeException e) {
            residency.release(c);
            throw e;
        }
    }

    /** Every conversation with a log; idle ones are described from the end of their log, not loaded. */
    public List<ConversationInfo> conversations() {
        List<ConversationInfo> out = new ArrayList<>();
        for (String id : log.conversationIds()) {
            ConversationState c = residency.ifResident(id);
            // with a shared store another process may have moved the conversation on: describe it from the store
            ConversationInfo info = c != null && !log.shared() ? c.info() : loader.describe(id);
            if (info != null) {
                out.add(info);
            }
        }
        out.sort(Comparator.comparing(ConversationInfo::conversationId));
        return out;
    }

    public Optional<ConversationInfo> conversation(String conversationId) {
        Ids.require("conversation", conversationId);
        return Optional.ofNullable(residency.find(conversationId)).map(ConversationState::info);
    }

    /** The conversation's summary (after an llm-mode rewrite under way has finished); empty before its first eviction. */
    public Optional<Summary> summary(String conversationId) {
        Ids.require("conversation", conversationId);
        ConversationState c = residency.find(conversationId);
        if (c == null) {
            return Optional.empty();
        }
        c.pendingSummary.join();
        if (c.summaryRef == null) {
            return Optional.empty();
        }
        return summaries.read(conversationId);
    }

    /**
     * The prompt a logged turn of a conversation kept here was sent with, built again from the log: its window and
     * summary replayed, the turns it recalled read back by the ids logged with it (whatever the search index holds
     * now), the agent's current sink. Empty for an unknown conversation or turn, for a relayed conversation (its
     * prompt was the client's history) and in llm summary mode (the model's summary is not in the log).
     */
    public Optional<List<ChatMessage>> loggedPrompt(String conversationId, int turn) {
        Ids.require("conversation", conversationId);
        if (config.summaryMode() != SidecarConfig.SummaryMode.EXTRACTIVE || !log.exists(conversationId)) {
            return Optional.empty();
        }
        ConversationInfo info = loader.describe(conversationId);
        if (info == null || RELAY_AGENT.equals(info.agentId())) {
            return Optional.empty();
        }
        return agents.get(info.agentId())
                .flatMap(agent -> loggedPrompts.rebuild(conversationId, PromptWindow.sinkText(agent), turn));
    }

    /** Moves log and summary to the archive; false if unknown; {@link SessionException} BUSY mid-turn. */
    public boolean archive(String conversationId) {
        Ids.require("conversation", conversationId);
        ConversationState c = residency.remove(conversationId);
        if (c == null) {
            return false;
        }
        try {
            c.pendingSummary.join();
            engine.endSession(conversationId);
            boolean moved = log.archive(conversationId, config.archiveDir());
            summaries.archive(conversationId, config.archiveDir());
            index.removed(conversationId);
            return moved;
        } finally {
            residency.removed(c);
        }
    }

    /** Turns under way now. */
    public int activeTurns() {
        return turns.active();
    }

    /** Conversations held in memory now (bounded by {@code maxResident} plus those mid-turn). */
    public int residentConversations() {
        return residency.size();
    }

    /**
     * Refuses new turns, lets turns under way finish for up to {@code grace}, then cancels the rest and
     * waits until their events are durable.
     */
    public void shutdown(Duration grace) {
        turns.shutdown(grace);
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }

    /** What the engine cannot honour (a JSON schema it cannot enforce, …) is refused before anything is logged. */
    private void requireSupported(GenerationOptions options) {
        if (options != null) {
            engine.requireSupported(options);
        }
    }

    /** A turn that could not be logged is refused before it starts, not failed after its reply streamed. */
    private void requireLogWritable() {
        LogHealth h = log.health();
        if (!h.writable()) {
            throw new SessionException(SessionException.Kind.LOG_UNAVAILABLE,
                    "the event log cannot write, so turns are refused until it can: " + h.detail());
        }
    }

    private static String requireMessage(String text) {
        if (text == null || text.isBlank()) {
            throw new SessionException(SessionException.Kind.BAD_REQUEST, "user_message is required and must not be blank");
        }
        return text;
    }

    private static String conversationIdOrNew(String id) {
        if (id == null || id.isEmpty() || id.equals("new")) {
            return Ids.newConversationId();
        }
        return Ids.require("conversation", id);
    }
}
