package io.streamingllm.core.session;

import io.streamingllm.core.Ids;
import io.streamingllm.core.agent.Agent;
import io.streamingllm.core.agent.AgentStore;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.Generation;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.GenerationResult;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.TokenListener;
import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventLog;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.log.Visibility;
import io.streamingllm.core.session.ExtractiveSummarizer.EvictedTurn;
import io.streamingllm.core.session.payload.WindowState;
import io.streamingllm.core.summary.Summary;
import io.streamingllm.core.summary.SummaryStore;
import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonBuilderFactory;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonString;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * Endless conversations at constant cost: each turn's prompt is
 * {@code [listener][summary][recent turns][new user turn]} within the configured budget.
 * One turn at a time per conversation. Thread-safe.
 *
 * <p>The log is the source of truth: a conversation's resident state (window and summary) is rebuilt
 * from its events, so idle conversations can leave memory and come back unchanged.
 */
public final class ChatService implements AutoCloseable {
    /** Agent id recorded for conversations started through the Ollama-compatible API. */
    public static final String RELAY_AGENT = "ollama-api";
    /** On overflow the window is evicted down to this share of its size (hysteresis). */
    static final double HYSTERESIS = 0.75;
    private static final int DEFAULT_MAX_RESIDENT = 4096;
    private static final String SUMMARY_PREFIX = "Summary of the earlier conversation:\n";
    private static final System.Logger LOG = System.getLogger(ChatService.class.getName());
    /** Looked up once: {@code Json.createObjectBuilder()} looks the provider up on every call. */
    private static final JsonBuilderFactory JSON = Json.createBuilderFactory(java.util.Map.of());

    private final SidecarConfig config;
    private final ModelEngine engine;
    private final AgentStore agents;
    private final EventLog log;
    private final SummaryStore summaries;
    private final TokenEstimator tokens;
    private final int maxResident;
    private final ConcurrentHashMap<String, ConversationState> resident = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Long> lastUsed = new ConcurrentHashMap<>();
    private final AtomicLong clock = new AtomicLong();
    private final Set<RunningTurn> running = ConcurrentHashMap.newKeySet();
    private final ExecutorService background = Executors.newVirtualThreadPerTaskExecutor();
    private volatile boolean shuttingDown;

    public ChatService(SidecarConfig config, ModelEngine engine, AgentStore agents, EventLog log,
                       SummaryStore summaries) {
        this(config, engine, agents, log, summaries, DEFAULT_MAX_RESIDENT);
    }

    /** @param maxResident how many idle conversations stay in memory before the least recently used leave */
    public ChatService(SidecarConfig config, ModelEngine engine, AgentStore agents, EventLog log,
                       SummaryStore summaries, int maxResident) {
        this.config = config;
        this.engine = engine;
        this.agents = agents;
        this.log = log;
        this.summaries = summaries;
        this.tokens = new TokenEstimator(engine.exactTokenCounter().orElse(null));
        this.maxResident = Math.max(1, maxResident);
    }

    /**
     * Starts a turn: logs the user message durably, builds the windowed prompt and streams the reply to
     * {@code listener}. Throws {@link SessionException} (busy, unknown agent, bad request) or
     * {@link io.streamingllm.core.InvalidIdException} before anything is logged.
     */
    public Turn startTurn(TurnRequest request, TokenListener listener) {
        if (request == null) {
            throw new SessionException(SessionException.Kind.BAD_REQUEST, "missing turn request");
        }
        if (request.agentId() == null || request.agentId().isBlank()) {
            throw new SessionException(SessionException.Kind.BAD_REQUEST, "agent_id is required");
        }
        String agentId = Ids.require("agent", request.agentId());
        Agent agent = agents.get(agentId).orElseThrow(() -> new SessionException(
                SessionException.Kind.UNKNOWN_AGENT, "unknown agent: " + agentId));
        String text = requireMessage(request.userMessage());
        String conversationId = conversationIdOrNew(request.conversationId());
        ConversationState c = acquire(conversationId, agentId, true);
        try {
            return begin(c, agentId, sinkText(agent), text, null, request.options(), listener);
        } catch (RuntimeException e) {
            release(c);
            throw e;
        }
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
        List<ChatMessage> prompt = windowClientMessages(sinkText.toString(), dialogue);
        String lastUser = dialogue.get(dialogue.size() - 1).content();
        if (request.conversationId() == null) {
            return startUnlogged(prompt, request.options(), sinkText.toString(), listener);
        }
        String conversationId = Ids.require("conversation", request.conversationId());
        ConversationState c = acquire(conversationId, RELAY_AGENT, false);
        try {
            return begin(c, c.agentId, sinkText.toString(), lastUser, prompt, request.options(), listener);
        } catch (RuntimeException e) {
            release(c);
            throw e;
        }
    }

    /** Every conversation with a log; idle ones are described from the end of their log, not loaded. */
    public List<ConversationInfo> conversations() {
        List<ConversationInfo> out = new ArrayList<>();
        for (String id : log.conversationIds()) {
            ConversationState c = resident.get(id);
            ConversationInfo info = c != null ? c.info() : peek(id);
            if (info != null) {
                out.add(info);
            }
        }
        out.sort(Comparator.comparing(ConversationInfo::conversationId));
        return out;
    }

    /**
     * What {@link #load} would report, read from the last events only: every turn logs its number and agent
     * with the user message and its window with the reply; the newest summary ref is the summary file's
     * when the tail holds no refresh. Falls back to a full load for anything unusual.
     */
    private ConversationInfo peek(String conversationId) {
        List<Event> tail = log.tail(conversationId, 16);
        Event lastUser = null;
        Event lastAssistant = null;
        String summaryRef = null;
        for (Event e : tail) {
            switch (e.type()) {
                case USER_MESSAGE -> lastUser = e;
                case ASSISTANT_MESSAGE -> lastAssistant = e;
                case SUMMARY_REFRESH -> summaryRef = e.payload().getString("summary_ref", null);
                default -> {
                }
            }
        }
        if (lastUser == null || lastAssistant == null || lastAssistant.payload().getJsonObject("window") == null) {
            ConversationState c = load(conversationId);
            return c == null ? null : c.info();
        }
        if (summaryRef == null && summaries.exists(conversationId)) {
            try {
                summaryRef = summaries.read(conversationId).map(Summary::summaryRef).orElse(null);
            } catch (RuntimeException unreadableOrTampered) {
                ConversationState c = load(conversationId); // rebuilds the summary from the log
                return c == null ? null : c.info();
            }
        }
        JsonObject u = lastUser.payload();
        JsonObject w = lastAssistant.payload().getJsonObject("window");
        return new ConversationInfo(conversationId, u.getString("agent_id", RELAY_AGENT), u.getInt("turn", 0),
                new WindowState(w.getInt("sink_tokens", 0), w.getInt("summary_tokens", 0), w.getInt("recent_tokens", 0),
                        w.getInt("evicted_turns", 0)), summaryRef);
    }

    public Optional<ConversationInfo> conversation(String conversationId) {
        Ids.require("conversation", conversationId);
        return Optional.ofNullable(resident(conversationId)).map(ConversationState::info);
    }

    /** The conversation's summary (after an llm-mode rewrite under way has finished); empty before its first eviction. */
    public Optional<Summary> summary(String conversationId) {
        Ids.require("conversation", conversationId);
        ConversationState c = resident(conversationId);
        if (c == null) {
            return Optional.empty();
        }
        c.pendingSummary.join();
        if (c.summaryRef == null) {
            return Optional.empty();
        }
        return summaries.read(conversationId);
    }

    /** Moves log and summary to the archive; false if unknown; {@link SessionException} BUSY mid-turn. */
    public boolean archive(String conversationId) {
        Ids.require("conversation", conversationId);
        ConversationState c = resident(conversationId);
        if (c == null) {
            return false;
        }
        if (!c.busy.compareAndSet(false, true)) {
            throw new SessionException(SessionException.Kind.BUSY, "conversation " + conversationId + " has a turn under way");
        }
        // c stays busy for good: anyone still holding it retries and finds the conversation gone
        resident.remove(conversationId, c);
        lastUsed.remove(conversationId);
        c.pendingSummary.join();
        engine.endSession(conversationId);
        boolean moved = log.archive(conversationId, config.archiveDir());
        summaries.archive(conversationId, config.archiveDir());
        return moved;
    }

    /** Turns under way now. */
    public int activeTurns() {
        return running.size();
    }

    public ModelEngine engine() {
        return engine;
    }

    /** Conversations held in memory now (bounded by {@code maxResident} plus those mid-turn). */
    public int residentConversations() {
        return resident.size();
    }

    /**
     * Refuses new turns, lets turns under way finish for up to {@code grace}, then cancels the rest and
     * waits until their events are durable.
     */
    public void shutdown(Duration grace) {
        shuttingDown = true;
        long deadline = System.nanoTime() + grace.toNanos();
        for (RunningTurn t : List.copyOf(running)) {
            long left = deadline - System.nanoTime();
            try {
                t.result.get(Math.max(0, left), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                break;
            } catch (Exception ignored) {
                // failed turns are logged by their own completion
            }
        }
        List<RunningTurn> remaining = List.copyOf(running);
        if (!remaining.isEmpty()) {
            LOG.log(System.Logger.Level.WARNING, "shutdown: cancelling " + remaining.size() + " turn(s) still running after "
                    + grace.toSeconds() + " s grace");
        }
        remaining.forEach(RunningTurn::cancel);
        for (RunningTurn t : remaining) {
            try {
                t.result.get(30, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // logged as cancelled or failed by the turn itself
            }
        }
        background.shutdown();
        try {
            background.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        shutdown(Duration.ZERO);
    }

    // ---------------------------------------------------------------- turns

    private Turn begin(ConversationState c, String agentId, String sinkText, String userText,
                       List<ChatMessage> clientPrompt, GenerationOptions requested, TokenListener listener) {
        c.pendingSummary.join();
        int userTokens = tokens.count(userText);
        if (config.streamingEnabled() && userTokens > config.recentSize()) {
            throw new SessionException(SessionException.Kind.TOO_LARGE, "the message has about " + userTokens
                    + " tokens, more than the whole window (STREAMING_LLM_RECENT_SIZE=" + config.recentSize() + ")");
        }
        int turn = c.turns + 1;
        Event userEvent = Event.create(c.id, EventType.USER_MESSAGE, Visibility.USER, JSON.createObjectBuilder()
                .add("content", userText).add("agent_id", agentId).add("turn", turn).add("tokens", userTokens).build());
        List<Event> firstEvents = new ArrayList<>(2);
        firstEvents.add(userEvent);
        String summaryBefore = c.summary;
        List<RecentTurn> evicted = List.of();
        if (config.streamingEnabled()) {
            evicted = c.evictFor(userTokens, config.recentSize(), (int) (config.recentSize() * HYSTERESIS));
            if (!evicted.isEmpty()) {
                firstEvents.add(foldIntoSummary(c, evicted));
            }
        }
        String summaryToWrite = c.summary != null && !c.summary.equals(summaryBefore) ? c.summary : null;
        c.turns = turn;

        int sinkTokens = tokens.count(sinkText);
        List<ChatMessage> prompt = clientPrompt != null ? clientPrompt : prompt(c, sinkText, userText);
        WindowState window = new WindowState(sinkTokens, c.summary == null ? 0 : c.summaryTokens,
                c.recentTokens + userTokens, c.evictedTurns);
        GenerationOptions options = effectiveOptions(requested, sinkTokens, prompt);

        CompletableFuture<Void> firstDurable = CompletableFuture.runAsync(() -> {
            if (summaryToWrite != null) {
                summaries.write(c.id, summaryToWrite);
            }
            log.appendAll(firstEvents);
        }, background);
        return run(c, turn, userEvent, userText, userTokens, window, !evicted.isEmpty(), prompt, options,
                firstDurable, listener);
    }

    private Turn run(ConversationState c, int turn, Event userEvent, String userText, int userTokens, WindowState window,
                     boolean evictedNow, List<ChatMessage> prompt, GenerationOptions options,
                     CompletableFuture<Void> firstDurable, TokenListener listener) {
        RunningTurn rt = new RunningTurn(c.id);
        running.add(rt);
        StringBuilder text = new StringBuilder();
        TokenListener relay = delta -> {
            text.append(delta);
            try {
                listener.onToken(delta);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "client listener failed, cancelling turn of " + c.id, e);
                rt.cancel();
            }
        };
        long started = System.nanoTime();
        Generation g = engine.generate(c.id, prompt, options, relay);
        rt.attach(g);
        g.result().whenCompleteAsync((res, err) -> {
            try {
                TurnResult result = finish(c, turn, userEvent, userText, userTokens, window, evictedNow, prompt,
                        text.toString(), res, err, System.nanoTime() - started, firstDurable);
                release(c);
                running.remove(rt);
                if (err != null) {
                    rt.result.completeExceptionally(unwrap(err));
                } else {
                    rt.result.complete(result);
                }
            } catch (Throwable t) {
                // the log could not take the turn: forget the resident state, it is rebuilt from the log
                resident.remove(c.id, c);
                release(c);
                running.remove(rt);
                rt.result.completeExceptionally(t);
            }
        }, background);
        return rt;
    }

    private TurnResult finish(ConversationState c, int turn, Event userEvent, String userText, int userTokens,
                              WindowState window, boolean evictedNow, List<ChatMessage> prompt, String partial,
                              GenerationResult res, Throwable err, long nanos, CompletableFuture<Void> firstDurable) {
        FinishReason reason = err != null ? FinishReason.ERROR : res.finishReason();
        String reply = err != null ? partial : res.text();
        int assistantTokens = tokens.count(reply);
        JsonObjectBuilder payload = JSON.createObjectBuilder()
                .add("content", reply)
                .add("agent_id", c.agentId)
                .add("model", engine.model())
                .add("turn", turn)
                .add("finish_reason", reason.wireName())
                .add("tokens", assistantTokens)
                .add("prompt_tokens", res != null ? res.promptTokens() : -1)
                .add("completion_tokens", res != null ? res.completionTokens() : -1)
                .add("total_duration", res != null ? res.totalNanos() : nanos)
                .add("load_duration", res != null ? res.loadNanos() : 0)
                .add("prompt_eval_duration", res != null ? res.promptEvalNanos() : 0)
                .add("eval_duration", res != null ? res.evalNanos() : 0)
                .add("window", JSON.createObjectBuilder()
                        .add("sink_tokens", window.sinkTokens())
                        .add("summary_tokens", window.summaryTokens())
                        .add("recent_tokens", window.recentTokens())
                        .add("evicted_turns", window.evictedTurns()));
        List<Event> events = new ArrayList<>(2);
        EngineException failure = err == null ? null : asEngineException(unwrap(err));
        if (failure != null) {
            payload.add("error", failure.getMessage());
        }
        events.add(Event.create(c.id, EventType.ASSISTANT_MESSAGE, Visibility.USER, payload.build()));
        if (failure != null) {
            events.add(Event.create(c.id, EventType.ERROR, Visibility.INTERNAL, JSON.createObjectBuilder()
                    .add("message", failure.getMessage()).add("kind", failure.kind().name().toLowerCase(java.util.Locale.ROOT))
                    .add("turn", turn).build()));
        }
        firstDurable.join();
        log.appendAll(events);

        c.lastWindow = window;
        if (fedAgain(reason)) {
            c.addRecent(new RecentTurn(turn, userEvent.id(), userText, reply, userTokens + assistantTokens));
            if (res.promptTokensExact()) {
                tokens.calibrate(prompt.stream().mapToLong(m -> m.content().length()).sum(), res.promptTokens());
            }
        }
        if (evictedNow && config.summaryMode() == SidecarConfig.SummaryMode.LLM) {
            c.pendingSummary = CompletableFuture.runAsync(() -> rewriteSummaryWithModel(c), background);
        }
        if (res == null) {
            return new TurnResult(c.id, reply, reason, -1, -1, nanos, 0, 0, 0);
        }
        return new TurnResult(c.id, reply, reason, res.promptTokens(), res.completionTokens(), res.totalNanos(),
                res.loadNanos(), res.promptEvalNanos(), res.evalNanos());
    }

    /** A relayed call that names no conversation: nothing is logged. */
    private Turn startUnlogged(List<ChatMessage> prompt, GenerationOptions requested, String sinkText, TokenListener listener) {
        if (shuttingDown) {
            throw new SessionException(SessionException.Kind.SHUTTING_DOWN, "the sidecar is shutting down");
        }
        RunningTurn rt = new RunningTurn(null);
        running.add(rt);
        Generation g = engine.generate(prompt, effectiveOptions(requested, tokens.count(sinkText), prompt), delta -> {
            try {
                listener.onToken(delta);
            } catch (RuntimeException e) {
                rt.cancel();
            }
        });
        rt.attach(g);
        g.result().whenComplete((res, err) -> {
            running.remove(rt);
            if (err != null) {
                rt.result.completeExceptionally(unwrap(err));
            } else {
                rt.result.complete(new TurnResult(null, res.text(), res.finishReason(), res.promptTokens(),
                        res.completionTokens(), res.totalNanos(), res.loadNanos(), res.promptEvalNanos(), res.evalNanos()));
            }
        });
        return rt;
    }

    // ---------------------------------------------------------------- window and summary

    private List<ChatMessage> prompt(ConversationState c, String sinkText, String userText) {
        List<ChatMessage> messages = new ArrayList<>(2 + 2 * c.recent.size() + 1);
        String system = systemMessage(sinkText, c.summary);
        if (!system.isEmpty()) {
            messages.add(ChatMessage.system(system));
        }
        for (RecentTurn t : c.recent) {
            messages.add(ChatMessage.user(t.user()));
            messages.add(ChatMessage.assistant(t.assistant()));
        }
        messages.add(ChatMessage.user(userText));
        return messages;
    }

    private static String systemMessage(String sinkText, String summary) {
        if (summary == null || summary.isEmpty()) {
            return sinkText;
        }
        return sinkText.isEmpty() ? SUMMARY_PREFIX + summary : sinkText + "\n\n" + SUMMARY_PREFIX + summary;
    }

    /** Folds evicted turns into the conversation's summary and returns the SUMMARY_REFRESH event. */
    private Event foldIntoSummary(ConversationState c, List<RecentTurn> evicted) {
        List<EvictedTurn> folded = evicted.stream().map(t -> new EvictedTurn(t.turn(), t.user(), t.assistant())).toList();
        c.summary = ExtractiveSummarizer.fold(c.summary, folded, config.summarySize(), tokens);
        c.summaryRef = SummaryStore.sha256Hex(c.summary);
        c.summaryTokens = tokens.count(c.summary);
        JsonArrayBuilder ids = JSON.createArrayBuilder();
        evicted.forEach(t -> ids.add(t.userEventId()));
        return Event.create(c.id, EventType.SUMMARY_REFRESH, Visibility.INTERNAL, JSON.createObjectBuilder()
                .add("summary_ref", c.summaryRef)
                .add("evicted_event_ids", ids)
                .add("evicted_turns", c.evictedTurns)
                .add("summary_tokens", c.summaryTokens)
                .add("mode", "extractive").build());
    }

    /** llm mode: after a turn that evicted, the model rewrites the summary within its budget. */
    private void rewriteSummaryWithModel(ConversationState c) {
        String current = c.summary;
        if (current == null || current.isEmpty()) {
            return;
        }
        List<ChatMessage> prompt = List.of(
                ChatMessage.system("You maintain the running summary of a conversation. Keep facts, names, decisions "
                        + "and open questions. Answer with the summary only."),
                ChatMessage.user("Rewrite this summary in at most " + Math.max(16, config.summarySize() * 3 / 4)
                        + " words:\n\n" + current));
        try {
            GenerationResult r = engine.generate(prompt, new GenerationOptions(0.0, config.summarySize(), null,
                    List.of(), null, null), d -> { }).result().get(config.tokenTimeout().toSeconds() * 4, TimeUnit.SECONDS);
            String rewritten = r.text().strip();
            if (rewritten.isEmpty() || r.finishReason() == FinishReason.CANCELLED) {
                return;
            }
            if (tokens.count(rewritten) > config.summarySize()) {
                rewritten = ExtractiveSummarizer.fold(rewritten, List.of(), config.summarySize(), tokens);
            }
            String ref = SummaryStore.sha256Hex(rewritten);
            int summaryTokens = tokens.count(rewritten);
            summaries.write(c.id, rewritten);
            log.append(Event.create(c.id, EventType.SUMMARY_REFRESH, Visibility.INTERNAL, JSON.createObjectBuilder()
                    .add("summary_ref", ref).add("evicted_event_ids", JSON.createArrayBuilder())
                    .add("evicted_turns", c.evictedTurns).add("summary_tokens", summaryTokens)
                    .add("mode", "llm").build()));
            c.summary = rewritten;
            c.summaryRef = ref;
            c.summaryTokens = summaryTokens;
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "llm summary of " + c.id + " failed; keeping the extractive one: " + e);
        }
    }

    /** The window over a client-supplied history: newest messages that fit, older ones summarised. */
    private List<ChatMessage> windowClientMessages(String sinkText, List<ChatMessage> dialogue) {
        int keepFrom = 0;
        if (config.streamingEnabled()) {
            int used = 0;
            keepFrom = dialogue.size();
            for (int i = dialogue.size() - 1; i >= 0; i--) {
                int t = tokens.count(dialogue.get(i).content());
                if (i < dialogue.size() - 1 && used + t > config.recentSize()) {
                    break;
                }
                used += t;
                keepFrom = i;
            }
        }
        String summary = null;
        if (keepFrom > 0) {
            List<EvictedTurn> evicted = new ArrayList<>();
            String user = null;
            int n = 0;
            for (ChatMessage m : dialogue.subList(0, keepFrom)) {
                if (m.role() == ChatMessage.Role.USER) {
                    if (user != null) {
                        evicted.add(new EvictedTurn(++n, user, ""));
                    }
                    user = m.content();
                } else {
                    evicted.add(new EvictedTurn(++n, user == null ? "" : user, m.content()));
                    user = null;
                }
            }
            if (user != null) {
                evicted.add(new EvictedTurn(++n, user, ""));
            }
            summary = ExtractiveSummarizer.fold(null, evicted, config.summarySize(), tokens);
        }
        List<ChatMessage> prompt = new ArrayList<>();
        String system = systemMessage(sinkText, summary);
        if (!system.isEmpty()) {
            prompt.add(ChatMessage.system(system));
        }
        prompt.addAll(dialogue.subList(keepFrom, dialogue.size()));
        return prompt;
    }

    private GenerationOptions effectiveOptions(GenerationOptions requested, int sinkTokens, List<ChatMessage> prompt) {
        GenerationOptions o = requested == null ? GenerationOptions.DEFAULTS : requested;
        int maxNew = o.maxNewTokens() == null ? config.maxNewTokens() : o.maxNewTokens();
        int context;
        if (config.streamingEnabled()) {
            context = sinkTokens + config.summarySize() + config.recentSize() + maxNew;
        } else {
            context = prompt.stream().mapToInt(m -> tokens.count(m.content())).sum() + maxNew;
        }
        int keep = Math.max(config.startSize(), sinkTokens);
        return new GenerationOptions(o.temperature(), maxNew, o.seed(), o.stop(), context, keep);
    }

    private static String sinkText(Agent agent) {
        String prompt = agent.systemPrompt() == null ? "" : agent.systemPrompt().strip();
        String context = agent.markdownContext() == null ? "" : agent.markdownContext().strip();
        if (context.isEmpty()) {
            return prompt;
        }
        return prompt.isEmpty() ? context : prompt + "\n\n" + context;
    }

    // ---------------------------------------------------------------- residency

    private ConversationState acquire(String conversationId, String agentIfNew, boolean agentMustMatch) {
        while (true) {
            if (shuttingDown) {
                throw new SessionException(SessionException.Kind.SHUTTING_DOWN, "the sidecar is shutting down");
            }
            ConversationState c = resident.computeIfAbsent(conversationId, id -> {
                ConversationState loaded = load(id);
                return loaded != null ? loaded : new ConversationState(id, agentIfNew);
            });
            if (agentMustMatch && !c.agentId.equals(agentIfNew)) {
                throw new SessionException(SessionException.Kind.AGENT_MISMATCH, "conversation " + conversationId
                        + " belongs to agent " + c.agentId + ", not " + agentIfNew);
            }
            if (!c.busy.compareAndSet(false, true)) {
                if (resident.get(conversationId) == c) {
                    throw new SessionException(SessionException.Kind.BUSY, "conversation " + conversationId
                            + " has a turn under way; one turn at a time");
                }
                continue;
            }
            if (resident.get(conversationId) != c) {
                continue; // left memory (or was archived) between lookup and lock: load afresh
            }
            touch(conversationId);
            trimResident();
            return c;
        }
    }

    private void release(ConversationState c) {
        c.busy.set(false);
    }

    /** The resident state of an existing conversation, loading it from the log when needed; null if unknown. */
    private ConversationState resident(String conversationId) {
        ConversationState c = resident.get(conversationId);
        if (c != null) {
            touch(conversationId);
            return c;
        }
        if (!log.exists(conversationId)) {
            return null;
        }
        c = resident.computeIfAbsent(conversationId, id -> load(id));
        if (c != null) {
            touch(conversationId);
            trimResident();
        }
        return c;
    }

    private void touch(String id) {
        lastUsed.put(id, clock.incrementAndGet());
    }

    /** Sends the least recently used idle conversations out of memory; they reload from the log on use. */
    private void trimResident() {
        int excess = resident.size() - maxResident;
        if (excess <= 0) {
            return;
        }
        List<java.util.Map.Entry<String, Long>> byAge = new ArrayList<>(lastUsed.entrySet());
        byAge.sort(java.util.Map.Entry.comparingByValue());
        for (var e : byAge) {
            if (excess <= 0) {
                break;
            }
            ConversationState c = resident.get(e.getKey());
            if (c != null && c.pendingSummary.isDone() && c.busy.compareAndSet(false, true)) {
                resident.remove(e.getKey(), c);
                lastUsed.remove(e.getKey());
                excess--;
            }
        }
    }

    /** Rebuilds a conversation's state from its log (and summary file); null when it has no turns. */
    ConversationState load(String conversationId) {
        ConversationState c = null;
        Event pendingUser = null;
        try (Stream<Event> events = log.read(conversationId)) {
            for (Iterator<Event> it = events.iterator(); it.hasNext(); ) {
                Event e = it.next();
                JsonObject p = e.payload();
                switch (e.type()) {
                    case USER_MESSAGE -> {
                        if (c == null) {
                            c = new ConversationState(conversationId, p.getString("agent_id", RELAY_AGENT));
                        }
                        c.turns = Math.max(c.turns, p.getInt("turn", c.turns + 1));
                        pendingUser = e;
                    }
                    case ASSISTANT_MESSAGE -> {
                        if (c == null || pendingUser == null
                                || pendingUser.payload().getInt("turn", -1) != p.getInt("turn", -2)) {
                            break;
                        }
                        JsonObject w = p.getJsonObject("window");
                        if (w != null) {
                            c.lastWindow = new WindowState(w.getInt("sink_tokens", 0), w.getInt("summary_tokens", 0),
                                    w.getInt("recent_tokens", 0), w.getInt("evicted_turns", 0));
                        }
                        if (fedAgain(p)) {
                            JsonObject u = pendingUser.payload();
                            c.addRecent(new RecentTurn(u.getInt("turn"), pendingUser.id(), u.getString("content", ""),
                                    p.getString("content", ""), u.getInt("tokens", 0) + p.getInt("tokens", 0)));
                        }
                        pendingUser = null;
                    }
                    case SUMMARY_REFRESH -> {
                        if (c == null) {
                            break;
                        }
                        Set<String> ids = new HashSet<>();
                        p.getJsonArray("evicted_event_ids").getValuesAs(JsonString.class).forEach(s -> ids.add(s.getString()));
                        while (!c.recent.isEmpty() && ids.contains(c.recent.peekFirst().userEventId())) {
                            c.recentTokens -= c.recent.removeFirst().tokens();
                        }
                        c.evictedTurns = p.getInt("evicted_turns", c.evictedTurns + ids.size());
                        c.summaryRef = p.getString("summary_ref");
                        c.summaryTokens = p.getInt("summary_tokens", 0);
                    }
                    case ERROR -> {
                    }
                }
            }
        }
        if (c != null && c.summaryRef != null) {
            c.summary = readSummary(c);
        }
        return c;
    }

    /** The stored summary when it matches the log; otherwise rebuilt from the log (extractive summaries replay exactly). */
    private String readSummary(ConversationState c) {
        try {
            Optional<Summary> s = summaries.read(c.id);
            if (s.isPresent() && s.get().summaryRef().equals(c.summaryRef)) {
                return s.get().content();
            }
            LOG.log(System.Logger.Level.WARNING, "summary of " + c.id + " does not match its log; rebuilding it from the log");
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "summary of " + c.id + " unreadable (" + e.getMessage() + "); rebuilding it from the log");
        }
        String rebuilt = replaySummary(c.id);
        c.summaryRef = SummaryStore.sha256Hex(rebuilt);
        c.summaryTokens = tokens.count(rebuilt);
        summaries.write(c.id, rebuilt);
        return rebuilt;
    }

    private String replaySummary(String conversationId) {
        java.util.LinkedHashMap<String, EvictedTurn> fed = new java.util.LinkedHashMap<>();
        String summary = null;
        Event pendingUser = null;
        try (Stream<Event> events = log.read(conversationId)) {
            for (Iterator<Event> it = events.iterator(); it.hasNext(); ) {
                Event e = it.next();
                JsonObject p = e.payload();
                switch (e.type()) {
                    case USER_MESSAGE -> pendingUser = e;
                    case ASSISTANT_MESSAGE -> {
                        if (pendingUser != null && fedAgain(p)) {
                            JsonObject u = pendingUser.payload();
                            fed.put(pendingUser.id(), new EvictedTurn(u.getInt("turn", 0), u.getString("content", ""),
                                    p.getString("content", "")));
                        }
                        pendingUser = null;
                    }
                    case SUMMARY_REFRESH -> {
                        List<EvictedTurn> evicted = new ArrayList<>();
                        p.getJsonArray("evicted_event_ids").getValuesAs(JsonString.class).forEach(s -> {
                            EvictedTurn t = fed.remove(s.getString());
                            if (t != null) {
                                evicted.add(t);
                            }
                        });
                        summary = ExtractiveSummarizer.fold(summary, evicted, config.summarySize(), tokens);
                    }
                    default -> {
                    }
                }
            }
        }
        return summary == null ? "" : summary;
    }

    // ---------------------------------------------------------------- helpers

    /** Only completed turns go into later prompts; cancelled and failed ones stay in the log alone. */
    private static boolean fedAgain(FinishReason reason) {
        return reason == FinishReason.STOP || reason == FinishReason.LENGTH;
    }

    /** {@link #fedAgain(FinishReason)} for a logged ASSISTANT_MESSAGE payload. */
    private static boolean fedAgain(JsonObject assistantPayload) {
        String reason = assistantPayload.getString("finish_reason", "");
        return reason.equals(FinishReason.STOP.wireName()) || reason.equals(FinishReason.LENGTH.wireName());
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

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof java.util.concurrent.ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static EngineException asEngineException(Throwable t) {
        return t instanceof EngineException ee ? ee
                : new EngineException(EngineException.Kind.INTERNAL, "engine failed: " + t, t);
    }

    /** A turn under way: its generation and the result that completes once the turn is durable. */
    private static final class RunningTurn implements Turn {
        private final String conversationId;
        private final CompletableFuture<TurnResult> result = new CompletableFuture<>();
        private volatile Generation generation;
        private volatile boolean cancelled;

        RunningTurn(String conversationId) {
            this.conversationId = conversationId;
        }

        void attach(Generation g) {
            generation = g;
            if (cancelled) {
                g.cancel();
            }
        }

        @Override
        public String conversationId() {
            return conversationId;
        }

        @Override
        public CompletableFuture<TurnResult> result() {
            return result;
        }

        @Override
        public void cancel() {
            cancelled = true;
            Generation g = generation;
            if (g != null) {
                g.cancel();
            }
        }
    }
}
