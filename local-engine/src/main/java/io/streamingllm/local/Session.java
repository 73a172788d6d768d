package io.streamingllm.local;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.ToolDefinition;
import io.streamingllm.local.kv.SessionImage;
import io.streamingllm.local.model.KvCache;
import io.streamingllm.local.template.ChatTemplate;
import java.util.ArrayList;
import java.util.List;

/**
 * A conversation's KV cache and the dialogue messages (no system messages) whose tokens it holds.
 *
 * <p>A turn whose prompt continues the cached dialogue prefills only its new messages; any other
 * prompt starts the cache over. A cancelled or failed turn rolls the cache back to where it was before
 * the turn when nothing was evicted meanwhile. Otherwise a cancelled turn stays in the cache as far as it
 * got (a next prompt without it then starts the cache over), and a failed one, whose cache state is
 * unknown, starts the session over. Confined to the engine's worker thread.
 */
final class Session {
    private static final int REMEMBERED_MESSAGES = 256; // only the newest are ever matched against a prompt

    private final KvCache cache;
    private final List<ChatMessage> dialogue = new ArrayList<>();
    private int pending = -1; // last answer token sampled but not yet fed to the cache
    SavedSessions.Write write; // the save of this session's latest state, null when it is already on disk (or unsaved)

    /**
     * One turn's prompt, and the session's state before it to return to.
     *
     * @param prompt      the tokens to prefill
     * @param added       the dialogue messages the prompt adds to the cache
     * @param wholePrompt true when the prompt is the whole rendered chat, false when it continues the cache
     */
    record Turn(int[] prompt, List<ChatMessage> added, boolean wholePrompt, KvCache.Mark mark, int pendingBefore) {
    }

    Session(KvCache cache) {
        this.cache = cache;
    }

    /** A session as it was saved: its cache, the dialogue in it and the answer token not fed yet. */
    static Session restored(SessionImage image) {
        Session s = new Session(image.cache());
        s.dialogue.addAll(image.dialogue());
        s.pending = image.pendingToken();
        return s;
    }

    /** The session as it is to be saved under {@code key}; read while the worker leaves this session alone. */
    SessionImage image(String key) {
        return new SessionImage(key, List.copyOf(dialogue), pending, cache);
    }

    KvCache cache() {
        return cache;
    }

    /** Dialogue messages remembered (at most {@link #REMEMBERED_MESSAGES}). */
    int messages() {
        return dialogue.size();
    }

    /**
     * The turn for {@code messages}: only the messages after the cached dialogue (the system/summary
     * message is ignored after the first turn: the cache's sinks + recent window is then the context
     * manager), preceded by the last answer token if it was not fed yet; otherwise the cache starts over
     * from the whole rendered chat.
     */
    Turn begin(List<ChatMessage> messages, ChatTemplate template) {
        return begin(messages, template, List.of());
    }

    /** As above, the tools offered in the template's way when the whole chat is rendered (the cache holds them after). */
    Turn begin(List<ChatMessage> messages, ChatTemplate template, List<ToolDefinition> tools) {
        List<ChatMessage> chat = messages.stream().filter(m -> m.role() != ChatMessage.Role.SYSTEM).toList();
        List<ChatMessage> fresh = newMessages(chat);
        int[] prompt;
        List<ChatMessage> added;
        if (fresh == null) {
            reset();
            prompt = template.render(messages, tools);
            added = chat;
        } else {
            int[] followUp = template.renderFollowUp(fresh);
            prompt = followUp;
            if (pending >= 0) {
                prompt = new int[followUp.length + 1];
                prompt[0] = pending;
                System.arraycopy(followUp, 0, prompt, 1, followUp.length);
            }
            added = fresh;
        }
        return new Turn(prompt, added, fresh == null, cache.mark(), pending);
    }

    /**
     * Records how the turn ended: a cancelled turn is rolled back if it can be; otherwise its messages
     * and {@code answer} join the dialogue and {@code unfed}, the last answer token not yet in the cache
     * (-1 if none), waits for the next turn.
     */
    void end(Turn turn, boolean cancelled, String answer, int unfed) {
        end(turn, cancelled, ChatMessage.assistant(answer), unfed);
    }

    /**
     * As above, the answer as the next prompt will carry it: with the tool calls parsed out of its text (the cache
     * holds the text the model wrote, which is what the template renders for those calls), so the turn that hands
     * back their results continues the cache.
     */
    void end(Turn turn, boolean cancelled, ChatMessage answer, int unfed) {
        if (cancelled && cache.rollback(turn.mark())) {
            pending = turn.pendingBefore();
        } else {
            remember(turn.added());
            remember(List.of(answer));
            pending = unfed;
        }
    }

    /** After a failure the cache returns to its state before the turn ({@code turn} may be null), or starts over. */
    void forget(Turn turn) {
        if (turn != null && cache.rollback(turn.mark())) {
            pending = turn.pendingBefore();
        } else {
            reset();
        }
    }

    private void reset() {
        cache.clear();
        dialogue.clear();
        pending = -1;
    }

    private void remember(List<ChatMessage> added) {
        dialogue.addAll(added);
        if (dialogue.size() > REMEMBERED_MESSAGES) {
            dialogue.subList(0, dialogue.size() - REMEMBERED_MESSAGES).clear();
        }
    }

    /**
     * The messages of {@code prompt} after its longest leading run that ends the cached dialogue, or
     * null when there is none or nothing new follows it.
     */
    List<ChatMessage> newMessages(List<ChatMessage> prompt) {
        for (int k = Math.min(dialogue.size(), prompt.size() - 1); k >= 1; k--) {
            boolean match = true;
            for (int i = 0; i < k && match; i++) {
                match = same(prompt.get(i), dialogue.get(dialogue.size() - k + i));
            }
            if (match) {
                return prompt.subList(k, prompt.size());
            }
        }
        return null;
    }

    private static boolean same(ChatMessage a, ChatMessage b) {
        return a.role() == b.role() && a.content().strip().equals(b.content().strip()) && sameCalls(a, b);
    }

    /** The same calls as the template renders them: names and arguments (ids are not rendered). */
    private static boolean sameCalls(ChatMessage a, ChatMessage b) {
        if (a.toolCalls().size() != b.toolCalls().size()) {
            return false;
        }
        for (int i = 0; i < a.toolCalls().size(); i++) {
            if (!a.toolCalls().get(i).name().equals(b.toolCalls().get(i).name())
                    || !a.toolCalls().get(i).arguments().equals(b.toolCalls().get(i).arguments())) {
                return false;
            }
        }
        return true;
    }
}
