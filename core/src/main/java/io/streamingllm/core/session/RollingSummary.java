package io.streamingllm.core.session;

import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.config.SidecarConfig.SummaryMode;
import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.GenerationResult;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventStore;
import io.streamingllm.core.session.ExtractiveSummarizer.EvictedTurn;
import io.streamingllm.core.session.payload.SummaryRefresh;
import io.streamingllm.core.summary.Summary;
import io.streamingllm.core.summary.SummaryRepository;
import io.streamingllm.core.summary.SummaryStore;

import java.lang.System.Logger.Level;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * A conversation's rolling summary: the turns that left the window, folded extractively as they leave; in llm
 * mode rewritten by the model after the turn that evicted; and rebuilt from the log when the summary file does
 * not match it (extractive summaries replay exactly). Thread-safe: it changes a conversation's summary only
 * for the turn that holds the conversation, or in the rewrite that turn scheduled.
 */
final class RollingSummary {
    private static final System.Logger LOG = System.getLogger(RollingSummary.class.getName());

    private final SidecarConfig config;
    private final ModelEngine engine;
    private final EventStore log;
    private final SummaryRepository summaries;
    private final TokenEstimator tokens;

    RollingSummary(SidecarConfig config, ModelEngine engine, EventStore log, SummaryRepository summaries, TokenEstimator tokens) {
        this.config = config;
        this.engine = engine;
        this.log = log;
        this.summaries = summaries;
        this.tokens = tokens;
    }

    /** Folds turns leaving the window into the conversation's summary; returns the SUMMARY_REFRESH to log. */
    Event fold(ConversationState c, List<RecentTurn> evicted) {
        String text = ExtractiveSummarizer.fold(c.summary, evicted.stream().map(RollingSummary::evictedTurn).toList(),
                config.summarySize(), tokens);
        c.summarised(text, SummaryStore.sha256Hex(text), tokens.count(text));
        return new SummaryRefresh(c.summaryRef, evicted.stream().map(RecentTurn::userEventId).toList(), c.evictedTurns,
                c.summaryTokens, SummaryMode.EXTRACTIVE).toEvent(c.id);
    }

    /** Writes the summary file; a turn does so before it logs the refresh that names the summary. */
    void store(String conversationId, String text) {
        summaries.write(conversationId, text);
    }

    /** llm mode: after a turn that evicted, the model rewrites the summary within its budget. */
    void rewriteWithModel(ConversationState c) {
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
            Event refresh = log.append(new SummaryRefresh(ref, List.of(), c.evictedTurns, summaryTokens, SummaryMode.LLM)
                    .toEvent(c.id));
            c.lastEventId = refresh.id();
            c.summarised(rewritten, ref, summaryTokens);
        } catch (Exception e) {
            LOG.log(Level.WARNING, "llm summary of " + c.id + " failed; keeping the extractive one: " + e);
        }
    }

    /**
     * Gives {@code c}, loaded from the log, its summary text: the stored one when it matches the log's newest
     * refresh, otherwise the one rebuilt from the log (then stored).
     */
    void loadInto(ConversationState c) {
        try {
            Optional<Summary> s = summaries.read(c.id);
            if (s.isPresent() && s.get().summaryRef().equals(c.summaryRef)) {
                c.summary = s.get().content();
                return;
            }
            LOG.log(Level.WARNING, "summary of " + c.id + " does not match its log; rebuilding it from the log");
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "summary of " + c.id + " unreadable (" + e.getMessage() + "); rebuilding it from the log");
        }
        String rebuilt = rebuild(c.id);
        c.summarised(rebuilt, SummaryStore.sha256Hex(rebuilt), tokens.count(rebuilt));
        summaries.write(c.id, rebuilt);
    }

    /** Replays the log, folding each refresh's evicted turns as the live conversation did. */
    private String rebuild(String conversationId) {
        Refold refold = new Refold();
        ConversationReplay replay = new ConversationReplay(conversationId, refold);
        try (Stream<Event> events = log.read(conversationId)) {
            events.forEachOrdered(replay::apply);
        }
        return refold.summary == null ? "" : refold.summary;
    }

    private final class Refold implements Consumer<List<RecentTurn>> {
        private String summary;

        @Override
        public void accept(List<RecentTurn> evicted) {
            summary = ExtractiveSummarizer.fold(summary, evicted.stream().map(RollingSummary::evictedTurn).toList(),
                    config.summarySize(), tokens);
        }
    }

    /** A turn as the summary sees it: tool use as short notes ({@link ToolNotes}), never whole payloads. */
    private static EvictedTurn evictedTurn(RecentTurn t) {
        StringBuilder user = new StringBuilder(t.user());
        for (ChatMessage r : t.results()) {
            user.append(user.isEmpty() ? "" : " ").append(ToolNotes.result(r));
        }
        return new EvictedTurn(t.turn(), user.toString(), ToolNotes.reply(ChatMessage.toolCalls(t.assistant(), t.calls())));
    }
}
