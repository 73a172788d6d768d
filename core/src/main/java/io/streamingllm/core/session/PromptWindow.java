package io.streamingllm.core.session;

import io.streamingllm.core.agent.Agent;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.engine.ToolDefinition;
import io.streamingllm.core.engine.ToolOptions;
import io.streamingllm.core.session.ExtractiveSummarizer.EvictedTurn;
import io.streamingllm.core.session.payload.WindowState;

import java.util.ArrayList;
import java.util.List;

/**
 * The window a prompt is built in: {@code [sink][summary][recall][recent turns][new user turn]} within the configured
 * budgets, for a conversation kept here or over the history a client sends with a relayed call, and the
 * generation options sized to it. Thread-safe: it keeps no state but the shared token estimator.
 */
final class PromptWindow {
    /** On overflow the window is evicted down to this share of its size (hysteresis). */
    static final double HYSTERESIS = 0.75;
    private static final String SUMMARY_PREFIX = "Summary of the earlier conversation:\n";

    private final SidecarConfig config;
    private final TokenEstimator tokens;

    PromptWindow(SidecarConfig config, TokenEstimator tokens) {
        this.config = config;
        this.tokens = tokens;
    }

    /** The agent's sink: its system prompt, then its markdown context. */
    static String sinkText(Agent agent) {
        String prompt = agent.systemPrompt() == null ? "" : agent.systemPrompt().strip();
        String context = agent.markdownContext() == null ? "" : agent.markdownContext().strip();
        if (context.isEmpty()) {
            return prompt;
        }
        return prompt.isEmpty() ? context : prompt + "\n\n" + context;
    }

    /** Refuses a message that alone is larger than the window. */
    void requireFits(int userTokens) {
        if (config.streamingEnabled() && userTokens > config.recentSize()) {
            throw new SessionException(SessionException.Kind.TOO_LARGE, "the message has about " + userTokens
                    + " tokens, more than the whole window (STREAMING_LLM_RECENT_SIZE=" + config.recentSize() + ")");
        }
    }

    /** Makes room for a new message of {@code userTokens}; returns the turns that left the window, oldest first. */
    List<RecentTurn> evictFor(ConversationState c, int userTokens) {
        return evictFor(c, userTokens, false);
    }

    /** As above; a {@code continuation} keeps the newest turn, whose calls its results answer. */
    List<RecentTurn> evictFor(ConversationState c, int userTokens, boolean continuation) {
        if (!config.streamingEnabled()) {
            return List.of();
        }
        return c.evictFor(userTokens, config.recentSize(), (int) (config.recentSize() * HYSTERESIS), continuation);
    }

    /** The tokens a turn's opening counts for the window: the user's text, or the tool results' contents. */
    int openingTokens(String userText, List<ChatMessage> results) {
        int n = tokens.count(userText);
        for (ChatMessage r : results) {
            n += tokens.count(r.content());
        }
        return n;
    }

    /** The tokens a reply counts for the window: its text and the calls it makes. */
    int replyTokens(String reply, List<ToolCall> calls) {
        return messageTokens(ChatMessage.toolCalls(reply, calls));
    }

    /** The conversation's prompt: its sink and summary as one system message, its recent turns, the new message. */
    List<ChatMessage> prompt(ConversationState c, String sinkText, String userText) {
        return prompt(c, sinkText, "", userText, List.of());
    }

    /**
     * As above, with the evicted turns recalled for the new message ({@link Recall}) after the sink and summary in the
     * one system message ({@code [sink][summary][recall]}, then {@code [recent][new]}), and the new message being
     * {@code results} when the turn continues the newest one's tool calls. A reply's calls go into the prompt only
     * with the results that answer them (the next turn's), never alone; results whose call left the window go in as a
     * user message noting them ({@link ToolNotes}).
     */
    List<ChatMessage> prompt(ConversationState c, String sinkText, String recallBlock, String userText,
                             List<ChatMessage> results) {
        List<ChatMessage> messages = new ArrayList<>(2 + 2 * c.recent.size() + Math.max(1, results.size()));
        String system = systemMessage(sinkText, c.summary);
        if (!recallBlock.isEmpty()) {
            system = system.isEmpty() ? recallBlock : system + "\n\n" + recallBlock;
        }
        if (!system.isEmpty()) {
            messages.add(ChatMessage.system(system));
        }
        RecentTurn previous = null;
        for (RecentTurn t : c.recent) {
            if (previous != null) {
                messages.add(reply(previous, t.continuation()));
            }
            opening(messages, t.user(), t.results(), previous != null && !previous.calls().isEmpty());
            previous = t;
        }
        if (previous != null) {
            messages.add(reply(previous, !results.isEmpty()));
        }
        opening(messages, userText, results, previous != null && !previous.calls().isEmpty());
        return messages;
    }

    /** A turn's reply: with its calls when the next turn answers them, else its text alone. */
    private static ChatMessage reply(RecentTurn t, boolean answered) {
        return answered && !t.calls().isEmpty() ? ChatMessage.toolCalls(t.assistant(), t.calls())
                : ChatMessage.assistant(t.assistant());
    }

    /** A turn's opening: the user's message, or the tool results (as notes when their call is not in the prompt). */
    private static void opening(List<ChatMessage> messages, String user, List<ChatMessage> results, boolean callKept) {
        if (results.isEmpty()) {
            messages.add(ChatMessage.user(user));
        } else if (callKept) {
            messages.addAll(results);
        } else {
            StringBuilder notes = new StringBuilder();
            for (ChatMessage r : results) {
                notes.append(notes.isEmpty() ? "" : "\n").append(ToolNotes.result(r));
            }
            messages.add(ChatMessage.user(notes.toString()));
        }
    }

    /** The window over a client-supplied history: newest messages that fit, older ones summarised. */
    List<ChatMessage> relayed(String sinkText, List<ChatMessage> dialogue) {
        return relayedWindow(sinkText, dialogue).prompt();
    }

    /** {@link #relayed}, with what the window did to the client's history. */
    RelayedWindow relayedWindow(String sinkText, List<ChatMessage> dialogue) {
        return relayedWindow(sinkText, ToolOptions.NONE, dialogue);
    }

    /** As above, with the tools the model is offered: they belong to the sink (counted, never evicted). */
    RelayedWindow relayedWindow(String sinkText, ToolOptions tools, List<ChatMessage> dialogue) {
        return relayedWindow(sinkText, tools, dialogue, null);
    }

    /**
     * As above, for a logged conversation whose earlier calls' evicted turns left their summary bullets in
     * {@code bullets} (null: none): the same window, without clipping the turns a client sends again.
     */
    RelayedWindow relayedWindow(String sinkText, ToolOptions tools, List<ChatMessage> dialogue,
                                ExtractiveSummarizer.Bullets bullets) {
        return relayedWindow(sinkText, tools, dialogue,
                config.streamingEnabled() ? config.recentSize() : Integer.MAX_VALUE, bullets);
    }

    /** The tokens the tool definitions take in the prompt (upstreams render them next to the system message). */
    int toolTokens(ToolOptions tools) {
        if (!tools.enabled()) {
            return 0;
        }
        int n = 0;
        for (ToolDefinition d : tools.definitions()) {
            n += tokens.count(d.name()) + tokens.count(d.description()) + tokens.count(d.parameters().toString());
        }
        return n;
    }

    /** A message's tokens: its text and the calls it makes. */
    private int messageTokens(ChatMessage m) {
        int n = tokens.count(m.content());
        for (ToolCall c : m.toolCalls()) {
            n += tokens.count(c.name()) + tokens.count(c.arguments());
        }
        return n;
    }

    /**
     * Moves a cut that falls between an assistant's tool calls and their results so that the call and its results
     * stay together: evicted together when a later message follows them, kept together when they end the dialogue
     * (the newest message is always kept).
     */
    private static int groupCut(List<ChatMessage> dialogue, int keepFrom) {
        if (keepFrom <= 0 || keepFrom >= dialogue.size() || dialogue.get(keepFrom).role() != ChatMessage.Role.TOOL) {
            return keepFrom;
        }
        int end = keepFrom;
        while (end < dialogue.size() && dialogue.get(end).role() == ChatMessage.Role.TOOL) {
            end++;
        }
        if (end < dialogue.size()) {
            return end;
        }
        int start = keepFrom;
        while (start > 0 && dialogue.get(start).role() == ChatMessage.Role.TOOL) {
            start--;
        }
        return dialogue.get(start).toolCalls().isEmpty() ? keepFrom : start;
    }

    /**
     * The relayed window again in half the tokens its dialogue took in {@code relayed}, for a retry after the
     * upstream said the prompt does not fit its context; null when it cannot be smaller (only the newest message is
     * left).
     */
    RelayedWindow smallerRelayed(String sinkText, ToolOptions tools, List<ChatMessage> dialogue, RelayedWindow relayed) {
        List<ChatMessage> kept = relayed.prompt().stream().filter(m -> m.role() != ChatMessage.Role.SYSTEM).toList();
        int used = kept.stream().mapToInt(this::messageTokens).sum();
        RelayedWindow smaller = relayedWindow(sinkText, tools, dialogue, used / 2, null);
        long keptNow = smaller.prompt().stream().filter(m -> m.role() != ChatMessage.Role.SYSTEM).count();
        return keptNow < kept.size() ? smaller : null;
    }

    /** The newest messages within {@code budget} tokens (the newest always), the older ones summarised. */
    private RelayedWindow relayedWindow(String sinkText, ToolOptions tools, List<ChatMessage> dialogue, int budget,
                                        ExtractiveSummarizer.Bullets bullets) {
        int recentTokens = 0;
        int keepFrom = dialogue.size();
        for (int i = dialogue.size() - 1; i >= 0; i--) {
            int t = messageTokens(dialogue.get(i));
            if (i < dialogue.size() - 1 && (long) recentTokens + t > budget) {
                break;
            }
            recentTokens += t;
            keepFrom = i;
        }
        int grouped = groupCut(dialogue, keepFrom);
        if (grouped != keepFrom) {
            keepFrom = grouped;
            recentTokens = dialogue.subList(keepFrom, dialogue.size()).stream().mapToInt(this::messageTokens).sum();
        }
        String summary = null;
        int evictedTurns = 0;
        if (keepFrom > 0) {
            List<EvictedTurn> evicted = asTurns(dialogue.subList(0, keepFrom));
            evictedTurns = evicted.size();
            summary = ExtractiveSummarizer.fold(null, evicted, config.summarySize(), tokens, bullets);
        }
        List<ChatMessage> prompt = new ArrayList<>();
        String system = systemMessage(sinkText, summary);
        if (!system.isEmpty()) {
            prompt.add(ChatMessage.system(system));
        }
        prompt.addAll(dialogue.subList(keepFrom, dialogue.size()));
        WindowState state = new WindowState(tokens.count(sinkText) + toolTokens(tools), summary == null ? 0 : tokens.count(summary),
                recentTokens, evictedTurns);
        return new RelayedWindow(prompt, state);
    }

    /**
     * A relayed call's prompt and what the window did: the tokens of each part and how many of the client's
     * turns were folded into the summary.
     */
    record RelayedWindow(List<ChatMessage> prompt, WindowState window) {
    }

    /** The caller's options with the defaults filled in and the context sized to the window. */
    GenerationOptions options(GenerationOptions requested, int sinkTokens, List<ChatMessage> prompt) {
        GenerationOptions o = requested == null ? GenerationOptions.DEFAULTS : requested;
        sinkTokens += toolTokens(o.tools());
        int maxNew = o.maxNewTokens() == null ? config.maxNewTokens() : o.maxNewTokens();
        int context;
        if (config.streamingEnabled()) {
            context = sinkTokens + config.summarySize() + (config.recallEnabled() ? config.recallSize() : 0)
                    + config.recentSize() + maxNew;
        } else {
            context = prompt.stream().mapToInt(m -> tokens.count(m.content())).sum() + maxNew;
        }
        int keep = Math.max(config.startSize(), sinkTokens);
        return o.withMaxNewTokens(maxNew).withContext(context, keep); // carries every other option through
    }

    /** The tool results a relayed prompt ends with: what the client handed back in this turn, logged with it. */
    static List<ChatMessage> trailingResults(List<ChatMessage> prompt) {
        if (prompt == null) {
            return List.of();
        }
        int from = prompt.size();
        while (from > 0 && prompt.get(from - 1).role() == ChatMessage.Role.TOOL) {
            from--;
        }
        return prompt.subList(from, prompt.size());
    }

    /** A client's messages as numbered turns: a user message and the reply after it, either side possibly absent. */
    private static List<EvictedTurn> asTurns(List<ChatMessage> messages) {
        List<EvictedTurn> turns = new ArrayList<>();
        String user = null;
        int n = 0;
        for (ChatMessage m : messages) {
            if (m.role() == ChatMessage.Role.TOOL) {
                turns.add(new EvictedTurn(++n, "", ToolNotes.result(m)));
                continue;
            }
            if (m.role() == ChatMessage.Role.USER) {
                if (user != null) {
                    turns.add(new EvictedTurn(++n, user, ""));
                }
                user = m.content();
            } else {
                turns.add(new EvictedTurn(++n, user == null ? "" : user, ToolNotes.reply(m)));
                user = null;
            }
        }
        if (user != null) {
            turns.add(new EvictedTurn(++n, user, ""));
        }
        return turns;
    }

    private static String systemMessage(String sinkText, String summary) {
        if (summary == null || summary.isEmpty()) {
            return sinkText;
        }
        return sinkText.isEmpty() ? SUMMARY_PREFIX + summary : sinkText + "\n\n" + SUMMARY_PREFIX + summary;
    }
}
