package io.streamingllm.core.session;

import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.Generation;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.GenerationResult;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.TokenListener;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.engine.ToolOptions;
import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventStore;
import io.streamingllm.core.session.payload.AssistantMessage;
import io.streamingllm.core.session.payload.TurnError;
import io.streamingllm.core.session.payload.UserMessage;
import io.streamingllm.core.session.payload.WindowState;

import java.lang.System.Logger.Level;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * Runs turns: opens a logged turn (user message, eviction, prompt) on the caller's thread, streams the reply,
 * and completes it on a background virtual thread (reply logged, conversation released, result completed);
 * runs relayed calls that log nothing; and at shutdown lets turns under way finish or cancels them.
 * Thread-safe.
 */
final class TurnRunner {
    private static final System.Logger LOG = System.getLogger(TurnRunner.class.getName());

    private final SidecarConfig config;
    private final ModelEngine engine;
    private final EventStore log;
    private final TokenEstimator tokens;
    private final PromptWindow window;
    private final RollingSummary summary;
    private final ResidentConversations residency;
    private final ConversationIndex index;
    private final Recall recall;
    private final Set<RunningTurn> running = ConcurrentHashMap.newKeySet();
    private final ExecutorService background = Executors.newVirtualThreadPerTaskExecutor();
    private volatile boolean shuttingDown;

    TurnRunner(SidecarConfig config, ModelEngine engine, EventStore log, TokenEstimator tokens, PromptWindow window,
               RollingSummary summary, ResidentConversations residency, ConversationIndex index) {
        this.config = config;
        this.engine = engine;
        this.log = log;
        this.tokens = tokens;
        this.window = window;
        this.summary = summary;
        this.residency = residency;
        this.index = index;
        this.recall = new Recall(index, tokens, config.recallEnabled() ? config.recallSize() : 0);
    }

    /** Refuses new turns once shutdown began. */
    void requireOpen() {
        if (shuttingDown) {
            throw new SessionException(SessionException.Kind.SHUTTING_DOWN, "the sidecar is shutting down");
        }
    }

    /**
     * Starts a logged turn of {@code c}, which the caller holds; the turn releases it when it completes.
     *
     * @param relayed the window of a relayed call (built over the client's history); null to build the prompt
     *                from the conversation
     */
    Turn start(ConversationState c, String sinkText, String userText, PromptWindow.RelayedWindow relayed,
               GenerationOptions requested, TokenListener listener) {
        return start(c, sinkText, userText, relayed, requested, listener, null);
    }

    /**
     * As above; {@code smallerRelayed} rebuilds a relayed window smaller when the engine says its prompt does not
     * fit (null: the prompt is the conversation's own, which evicts further instead).
     */
    Turn start(ConversationState c, String sinkText, String userText, PromptWindow.RelayedWindow relayed,
               GenerationOptions requested, TokenListener listener,
               Supplier<PromptWindow.RelayedWindow> smallerRelayed) {
        List<ChatMessage> results = relayed == null ? List.of() : PromptWindow.trailingResults(relayed.prompt());
        TurnPlan plan = open(c, sinkText, userText, results, relayed == null ? null : relayed.prompt(), requested, true);
        return run(plan, relayed == null ? plan.window() : relayed.window(), listener, smallerRelayed);
    }

    /**
     * Starts a logged turn of {@code c} that builds its prompt from the conversation: a user turn, or, when
     * {@code results} are given, the continuation of the newest turn's tool calls (the caller checked that they
     * answer them).
     */
    Turn startOwn(ConversationState c, String sinkText, String userText, List<ChatMessage> results,
                  GenerationOptions requested, TokenListener listener) {
        TurnPlan plan = open(c, sinkText, userText, results, null, requested, true);
        return run(plan, plan.window(), listener, null);
    }

    /** A relayed call that names no conversation: nothing is logged. */
    Turn startUnlogged(PromptWindow.RelayedWindow relayed, GenerationOptions requested, String sinkText,
                       TokenListener listener) {
        return startUnlogged(relayed, requested, sinkText, listener, null);
    }

    /** As above; {@code smaller} rebuilds the window smaller when the engine says the prompt does not fit. */
    Turn startUnlogged(PromptWindow.RelayedWindow relayed, GenerationOptions requested, String sinkText,
                       TokenListener listener, Supplier<PromptWindow.RelayedWindow> smaller) {
        requireOpen();
        List<ChatMessage> prompt = relayed.prompt();
        RunningTurn rt = new RunningTurn(null, relayed.window());
        running.add(rt);
        AtomicBoolean anyToken = new AtomicBoolean();
        TokenListener relay = new ClientListener(listener, delta -> anyToken.set(true), () -> anyToken.set(true),
                e -> rt.cancel());
        GenerationOptions options = window.options(requested, tokens.count(sinkText), prompt);
        Generation first = engine.generate(prompt, options, relay);
        rt.attach(first);
        first.result().handle((res, err) -> {
            PromptWindow.RelayedWindow shrunk = !anyToken.get() && smaller != null && contextLength(err) ? smaller.get()
                    : null;
            if (shrunk == null) {
                return first.result(); // settled: its result or failure as it is
            }
            List<ChatMessage> retry = shrunk.prompt();
            LOG.log(Level.WARNING, "the engine's context is smaller than the window (" + unwrap(err).getMessage()
                    + "): retrying the relayed call once with " + retry.size() + " of " + prompt.size() + " messages");
            rt.window(shrunk.window());
            Generation second = engine.generate(retry, window.options(requested, tokens.count(sinkText), retry), relay);
            rt.attach(second);
            return second.result();
        }).thenCompose(f -> f).whenComplete((res, err) -> {
            running.remove(rt);
            if (err != null) {
                rt.result().completeExceptionally(unwrap(err));
            } else {
                rt.result().complete(new TurnResult(null, res.text(), res.finishReason(), res.promptTokens(),
                        res.completionTokens(), res.totalNanos(), res.loadNanos(), res.promptEvalNanos(), res.evalNanos()));
            }
        });
        return rt;
    }

    int active() {
        return running.size();
    }

    /**
     * Refuses new turns, lets turns under way finish for up to {@code grace}, then cancels the rest and
     * waits until their events are durable.
     */
    void shutdown(Duration grace) {
        shuttingDown = true;
        long deadline = System.nanoTime() + grace.toNanos();
        for (RunningTurn t : List.copyOf(running)) {
            long left = deadline - System.nanoTime();
            try {
                t.result().get(Math.max(0, left), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                break;
            } catch (Exception ignored) {
                // failed turns are logged by their own completion
            }
        }
        List<RunningTurn> remaining = List.copyOf(running);
        if (!remaining.isEmpty()) {
            LOG.log(Level.WARNING, "shutdown: cancelling " + remaining.size() + " turn(s) still running after "
                    + grace.toSeconds() + " s grace");
        }
        remaining.forEach(RunningTurn::cancel);
        for (RunningTurn t : remaining) {
            try {
                t.result().get(30, TimeUnit.SECONDS);
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

    /**
     * Opens the turn: counts the message, makes room in the window (folding what leaves into the summary),
     * builds the prompt, and starts logging the user message in the background.
     */
    private TurnPlan open(ConversationState c, String sinkText, String userText, List<ChatMessage> results,
                          List<ChatMessage> relayedPrompt, GenerationOptions requested, boolean offerSearch) {
        c.pendingSummary.join();
        int userTokens = window.openingTokens(userText, results);
        window.requireFits(userTokens);
        int turn = c.turns + 1;
        String summaryBefore = c.summary;
        boolean continuation = !results.isEmpty();
        if (!continuation) {
            c.pendingCalls = List.of(); // a user turn leaves the calls before it unanswered
        }
        List<RecentTurn> evicted = window.evictFor(c, userTokens, continuation && relayedPrompt == null);
        // a relayed call's prompt is the client's history: recall is for the prompts built here
        Recall.Recalled recalled = relayedPrompt != null ? Recall.Recalled.NONE : recall.choose(c, userText, turn);
        Event userEvent = new UserMessage(userText, c.agentId, turn, userTokens, results, recalled.eventIds(),
                recalled.tokens()).toEvent(c.id);
        List<Event> opening = new ArrayList<>(2);
        opening.add(userEvent);
        if (!evicted.isEmpty()) {
            opening.add(summary.fold(c, evicted));
        }
        String summaryToWrite = c.summary != null && !c.summary.equals(summaryBefore) ? c.summary : null;
        c.turns = turn;

        if (offerSearch && requested != null && index != ConversationIndex.NONE) {
            requested = SearchTool.offer(requested);
        }
        int sinkTextTokens = tokens.count(sinkText);
        int sinkTokens = sinkTextTokens + window.toolTokens(requested == null ? ToolOptions.NONE : requested.tools());
        List<ChatMessage> prompt = relayedPrompt != null ? relayedPrompt
                : window.prompt(c, sinkText, recalled.block(), userText, results);
        WindowState promptWindow = c.window(sinkTokens, userTokens).withRecall(recalled.tokens());
        GenerationOptions options = window.options(requested, sinkTextTokens, prompt);
        CompletableFuture<Void> opened = CompletableFuture.runAsync(() -> {
            if (summaryToWrite != null) {
                summary.store(c.id, summaryToWrite);
            }
            log.appendAll(opening);
            index.appended(opening);
        }, background);
        return new TurnPlan(c, turn, userEvent.id(), userText, userTokens, sinkText, recalled.block(), promptWindow,
                !evicted.isEmpty(), prompt, options, opened, results);
    }

    /** @param reported the window the turn reports to its client */
    private Turn run(TurnPlan turn, WindowState reported, TokenListener listener,
                     Supplier<PromptWindow.RelayedWindow> smallerRelayed) {
        ConversationState c = turn.conversation();
        RunningTurn rt = new RunningTurn(c.id, reported);
        running.add(rt);
        StringBuilder text = new StringBuilder();
        // the built-in search tool's calls are the sidecar's to run: the client never sees them
        TokenListener client = !turn.options().tools().definitions().contains(SearchTool.DEFINITION) ? listener
                : new TokenListener() {
                    @Override
                    public void onToken(String delta) {
                        listener.onToken(delta);
                    }

                    @Override
                    public void onToolCall(ToolCall call) {
                        if (!call.name().equals(SearchTool.NAME)) {
                            listener.onToolCall(call);
                        }
                    }
                };
        TokenListener relay = new ClientListener(client, text::append, () -> { }, e -> {
            LOG.log(Level.DEBUG, "client listener failed, cancelling turn of " + c.id, e);
            rt.cancel();
        });
        generate(rt, turn, relay, text, System.nanoTime(), smallerRelayed, true);
        return rt;
    }

    /**
     * Streams {@code turn}'s prompt and completes the turn; when the engine says the prompt does not fit its context
     * before any token came, the turn is run once more in a smaller window (logged, never a silent truncation).
     */
    private void generate(RunningTurn rt, TurnPlan turn, TokenListener relay, StringBuilder text, long started,
                          Supplier<PromptWindow.RelayedWindow> smallerRelayed, boolean mayShrink) {
        ConversationState c = turn.conversation();
        Generation g = engine.generate(c.id, turn.prompt(), turn.options(), relay);
        rt.attach(g);
        g.result().whenCompleteAsync((res, err) -> {
            boolean shrinkable = mayShrink && text.isEmpty() && contextLength(err);
            if (shrinkable && retriedSmaller(rt, turn, relay, text, started, smallerRelayed, err)) {
                return;
            }
            try {
                TurnResult result = complete(turn, text.toString(), res, err, System.nanoTime() - started);
                if (err == null && !rt.cancelled() && res.finishReason() == FinishReason.TOOL_CALLS
                        && SearchTool.ours(turn.options(), res.toolCalls())) {
                    generate(rt, searched(rt, turn, res), relay, text, started, null, false);
                    return;
                }
                residency.release(c);
                running.remove(rt);
                if (err != null) {
                    rt.result().completeExceptionally(unwrap(err));
                } else {
                    rt.result().complete(result);
                }
            } catch (Throwable t) {
                // the log could not take the turn: forget the resident state, it is rebuilt from the log
                residency.forget(c);
                residency.release(c);
                running.remove(rt);
                rt.result().completeExceptionally(t);
            }
        }, background);
    }

    /**
     * The model called the built-in conversation_search (and only it): the sidecar runs the searches and continues in
     * a new turn whose user message carries the results (logged as tool results, like a client's), over the same
     * prompt plus the calls and their results. After {@link SearchTool#MAX_ROUNDS} rounds the tool is withdrawn.
     */
    private TurnPlan searched(RunningTurn rt, TurnPlan turn, GenerationResult res) {
        ConversationState c = turn.conversation();
        List<ChatMessage> prompt = new ArrayList<>(turn.prompt());
        prompt.add(ChatMessage.toolCalls(res.text(), res.toolCalls()));
        for (ToolCall call : res.toolCalls()) {
            prompt.add(ChatMessage.toolResult(call.id(), SearchTool.NAME,
                    SearchTool.run(index, c.id, turn.number(), call)));
        }
        rt.searchRounds++;
        GenerationOptions options = rt.searchRounds >= SearchTool.MAX_ROUNDS ? SearchTool.withdraw(turn.options())
                : turn.options();
        return open(c, turn.sinkText(), "", PromptWindow.trailingResults(prompt), prompt, options, false);
    }

    /** Runs the turn again in a smaller window; false (the failure stands) when it cannot be smaller or not be retried. */
    private boolean retriedSmaller(RunningTurn rt, TurnPlan turn, TokenListener relay, StringBuilder text, long started,
                                   Supplier<PromptWindow.RelayedWindow> smallerRelayed, Throwable err) {
        try {
            PromptWindow.RelayedWindow relayedSmaller = smallerRelayed == null ? null : smallerRelayed.get();
            if (smallerRelayed != null && relayedSmaller == null) {
                return false;
            }
            TurnPlan smaller = smaller(turn, relayedSmaller, unwrap(err).getMessage());
            if (smaller == null) {
                return false;
            }
            rt.window(relayedSmaller != null ? relayedSmaller.window() : smaller.window());
            generate(rt, smaller, relay, text, started, null, false);
            return true;
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "conversation " + turn.conversation().id + ": the retry in a smaller window failed to start", e);
            return false;
        }
    }

    /**
     * The turn in a smaller window, after the engine said its prompt does not fit: a relayed prompt rebuilt in half
     * its dialogue's tokens, or the conversation's window evicted to half its recent tokens (the evicted turns folded
     * into the summary and logged as a SUMMARY_REFRESH, after the opening events). Null when nothing can be left out.
     */
    private TurnPlan smaller(TurnPlan turn, PromptWindow.RelayedWindow relayedSmaller, String why) {
        ConversationState c = turn.conversation();
        if (relayedSmaller != null) {
            List<ChatMessage> prompt = relayedSmaller.prompt();
            LOG.log(Level.WARNING, "conversation " + c.id + " turn " + turn.number() + ": the engine's context is smaller"
                    + " than the window (" + why + "); retrying once with " + prompt.size() + " of " + turn.prompt().size()
                    + " messages");
            return withPrompt(turn, prompt, turn.window(), turn.evicted(), turn.opened());
        }
        int recentBefore = c.recentTokens;
        List<RecentTurn> evicted = c.evictFor(turn.userTokens(), 0, (c.recentTokens + turn.userTokens()) / 2,
                !turn.results().isEmpty());
        if (evicted.isEmpty()) {
            return null;
        }
        Event refresh = summary.fold(c, evicted);
        String summaryText = c.summary;
        CompletableFuture<Void> opened = turn.opened().thenRunAsync(() -> {
            summary.store(c.id, summaryText);
            log.append(refresh);
        }, background);
        WindowState shrunk = c.window(turn.window().sinkTokens(), turn.userTokens())
                .withRecall(turn.window().recallTokens());
        LOG.log(Level.WARNING, "conversation " + c.id + " turn " + turn.number() + ": the engine's context is smaller than"
                + " the window (" + why + "); evicted " + evicted.size() + " more turn(s) into the summary (recent "
                + recentBefore + " -> " + c.recentTokens + " tokens, window " + shrunk.toJson() + ") and retrying once");
        return withPrompt(turn, window.prompt(c, turn.sinkText(), turn.recallBlock(), turn.userText(), turn.results()),
                shrunk, true, opened);
    }

    private static TurnPlan withPrompt(TurnPlan t, List<ChatMessage> prompt, WindowState window, boolean evicted,
                                       CompletableFuture<Void> opened) {
        return new TurnPlan(t.conversation(), t.number(), t.userEventId(), t.userText(), t.userTokens(), t.sinkText(),
                t.recallBlock(), window, evicted, prompt, t.options(), opened, t.results());
    }

    private static boolean contextLength(Throwable err) {
        return err != null && unwrap(err) instanceof EngineException e && e.kind() == EngineException.Kind.CONTEXT_LENGTH;
    }

    /**
     * Logs the reply (and the error of a failed turn) once the opening is durable, then moves the conversation
     * on: a completed turn enters the window, and in llm mode a turn that evicted schedules the summary rewrite.
     */
    private TurnResult complete(TurnPlan turn, String partial, GenerationResult res, Throwable err, long nanos) {
        ConversationState c = turn.conversation();
        FinishReason reason = err != null ? FinishReason.ERROR : res.finishReason();
        String reply = err != null ? partial : res.text();
        List<ToolCall> calls = res == null ? List.of() : res.toolCalls();
        int replyTokens = window.replyTokens(reply, calls);
        EngineException failure = err == null ? null : asEngineException(unwrap(err));
        List<Event> events = new ArrayList<>(2);
        events.add(reply(turn, reply, reason, replyTokens, res, nanos, failure).toEvent(c.id));
        if (failure != null) {
            events.add(new TurnError(failure.getMessage(), failure.kind(), turn.number()).toEvent(c.id));
        }
        turn.opened().join();
        log.appendAll(events);
        c.lastEventId = events.getLast().id();
        index.appended(events);

        c.lastWindow = turn.window();
        if (RecentTurn.entersWindow(reason)) {
            c.addRecent(new RecentTurn(turn.number(), turn.userEventId(), turn.userText(), reply,
                    turn.userTokens() + replyTokens, turn.results(), calls));
            c.pendingCalls = reason == FinishReason.TOOL_CALLS ? calls : List.of();
            if (res.promptTokensExact()) {
                tokens.calibrate(turn.prompt().stream().mapToLong(m -> m.content().length()).sum(), res.promptTokens());
            }
        }
        if (turn.evicted() && config.summaryMode() == SidecarConfig.SummaryMode.LLM) {
            c.pendingSummary = CompletableFuture.runAsync(() -> summary.rewriteWithModel(c), background);
        }
        if (res == null) {
            return new TurnResult(c.id, reply, reason, -1, -1, nanos, 0, 0, 0);
        }
        return new TurnResult(c.id, reply, reason, res.promptTokens(), res.completionTokens(), res.totalNanos(),
                res.loadNanos(), res.promptEvalNanos(), res.evalNanos());
    }

    /** The ASSISTANT_MESSAGE of a turn: what the engine reported, or for a failed turn its wall time and error. */
    private AssistantMessage reply(TurnPlan turn, String reply, FinishReason reason, int replyTokens,
                                   GenerationResult res, long nanos, EngineException failure) {
        String agentId = turn.conversation().agentId;
        String error = failure == null ? null : failure.getMessage();
        if (res == null) {
            return new AssistantMessage(reply, agentId, engine.model(), turn.number(), reason, replyTokens, -1, -1,
                    nanos, 0, 0, 0, turn.window(), error);
        }
        return new AssistantMessage(reply, agentId, engine.model(), turn.number(), reason, replyTokens,
                res.promptTokens(), res.completionTokens(), res.totalNanos(), res.loadNanos(), res.promptEvalNanos(),
                res.evalNanos(), turn.window(), error, res.toolCalls());
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    private static EngineException asEngineException(Throwable t) {
        return t instanceof EngineException ee ? ee
                : new EngineException(EngineException.Kind.INTERNAL, "engine failed: " + t, t);
    }
}
