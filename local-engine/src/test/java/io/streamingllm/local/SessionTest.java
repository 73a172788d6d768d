package io.streamingllm.local;

import static org.junit.jupiter.api.Assertions.*;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.local.llamacpp.LlamaCppFixtures;
import io.streamingllm.local.model.KvCache;
import io.streamingllm.local.model.ModelConfig;
import io.streamingllm.local.template.ChatTemplate;
import io.streamingllm.local.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** A session's turns without a model: the cache is filled by reserving slots, as a prefill would. */
class SessionTest {
    static final Map<String, Object> META = LlamaCppFixtures.vocabMetadata("stories260K");
    static final ChatTemplate TEMPLATE = ChatTemplate.fromGguf(META, Tokenizer.fromGguf(META));
    static final ModelConfig CONFIG = new ModelConfig("llama", 8, 16, 1, 2, 2, 4, 512, 512, 1e-5f, 10000f, false, 4,
            new float[] {1f, 1f});
    static final List<ChatMessage> FIRST = List.of(ChatMessage.system("Stories."), ChatMessage.user("A cat."));

    private static Session session(int recent) {
        return new Session(KvCache.streaming(CONFIG, 4, recent));
    }

    /** Begins a turn and feeds its prompt and {@code answerTokens} answer tokens into the cache. */
    private static Session.Turn feed(Session s, List<ChatMessage> prompt, int answerTokens) {
        Session.Turn t = s.begin(prompt, TEMPLATE);
        for (int i = 0; i < t.prompt().length + answerTokens; i++) {
            s.cache().reserve(1);
        }
        return t;
    }

    private static List<ChatMessage> plus(List<ChatMessage> a, ChatMessage... more) {
        List<ChatMessage> l = new ArrayList<>(a);
        l.addAll(List.of(more));
        return l;
    }

    @Test
    void theFirstTurnRendersTheWholeChat() {
        Session s = session(100);
        Session.Turn t = s.begin(FIRST, TEMPLATE);
        assertTrue(t.wholePrompt());
        assertArrayEquals(TEMPLATE.render(FIRST), t.prompt());
        assertEquals(List.of(ChatMessage.user("A cat.")), t.added(), "system messages are not dialogue");
    }

    @Test
    void aTurnThatContinuesTheDialoguePrefillsTheUnfedAnswerTokenAndItsNewMessagesOnly() {
        Session s = session(100);
        s.end(feed(s, FIRST, 3), false, "It sat.", 77);
        assertEquals(2, s.messages());
        // another summary and other whitespace: the dialogue still continues
        List<ChatMessage> next = List.of(ChatMessage.system("A new summary."), ChatMessage.user(" A cat. "),
                ChatMessage.assistant("It sat.\n"), ChatMessage.user("A dog."));
        Session.Turn t = s.begin(next, TEMPLATE);
        assertFalse(t.wholePrompt());
        int[] followUp = TEMPLATE.renderFollowUp(List.of(ChatMessage.user("A dog.")));
        assertArrayEquals(IntStream.concat(IntStream.of(77), IntStream.of(followUp)).toArray(), t.prompt());
        assertEquals(List.of(ChatMessage.user("A dog.")), t.added());
    }

    @Test
    void aPromptThatDoesNotEndTheDialogueStartsTheCacheOver() {
        Session s = session(100);
        s.end(feed(s, FIRST, 3), false, "It sat.", -1);
        List<ChatMessage> other = plus(FIRST, ChatMessage.assistant("Something else."), ChatMessage.user("A dog."));
        Session.Turn t = s.begin(other, TEMPLATE);
        assertTrue(t.wholePrompt());
        assertArrayEquals(TEMPLATE.render(other), t.prompt());
        assertEquals(0, s.cache().length());
        assertEquals(0, s.messages());
    }

    @Test
    void aCancelledTurnRollsBackWhenNothingWasEvictedAndStaysAsFarAsItGotOtherwise() {
        Session s = session(100);
        s.end(feed(s, FIRST, 3), false, "It sat.", 77);
        int held = s.cache().length();
        List<ChatMessage> next = plus(FIRST, ChatMessage.assistant("It sat."), ChatMessage.user("A dog."));
        s.end(feed(s, next, 5), true, "Half", -1);
        assertEquals(held, s.cache().length(), "rolled back");
        assertEquals(2, s.messages());
        assertEquals(77, s.begin(next, TEMPLATE).prompt()[0], "the unfed token is still pending");

        Session small = session(12); // the cancelled turn evicts: no way back
        small.end(feed(small, FIRST, 3), false, "It sat.", 77);
        small.end(feed(small, next, 20), true, "Half", -1);
        assertEquals(16, small.cache().length());
        assertEquals(4, small.messages(), "the cancelled turn is remembered as far as it got");
        assertTrue(small.begin(next, TEMPLATE).wholePrompt(), "a prompt without the partial answer starts over");
    }

    @Test
    void aFailedTurnRollsBackOrStartsOver() {
        Session s = session(100);
        s.end(feed(s, FIRST, 3), false, "It sat.", 77);
        int held = s.cache().length();
        List<ChatMessage> next = plus(FIRST, ChatMessage.assistant("It sat."), ChatMessage.user("A dog."));
        s.forget(feed(s, next, 2));
        assertEquals(held, s.cache().length());
        assertFalse(s.begin(next, TEMPLATE).wholePrompt(), "the session survives a failure it can undo");

        s.forget(null); // failed before its turn began: the cache state is unknown
        assertEquals(0, s.cache().length());
        assertEquals(0, s.messages());
        assertTrue(s.begin(next, TEMPLATE).wholePrompt());
    }

    @Test
    void onlyTheNewestMessagesAreRemembered() {
        Session s = session(100);
        List<ChatMessage> history = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            // as ChatService sends it: the summary, the newest exchanges, the new user message
            List<ChatMessage> prompt = new ArrayList<>(List.of(ChatMessage.system("Stories.")));
            prompt.addAll(history.subList(Math.max(0, history.size() - 4), history.size()));
            prompt.add(ChatMessage.user("question " + i));
            Session.Turn t = s.begin(prompt, TEMPLATE);
            assertEquals(i == 0, t.wholePrompt(), "turn " + i);
            s.end(t, false, "answer " + i, -1);
            history.add(ChatMessage.user("question " + i));
            history.add(ChatMessage.assistant("answer " + i));
        }
        assertEquals(256, s.messages());
    }

    @Test
    void aReplyThatCalledToolsIsContinuedByItsResultsAndNotByTheSameTextWithoutTheCalls() {
        ToolCall call = new ToolCall("call_1", "get_weather", "{\"city\":\"Paris\"}");
        Session s = session(100);
        s.end(feed(s, FIRST, 3), false, ChatMessage.toolCalls("", List.of(call)), 5);
        List<ChatMessage> results = plus(FIRST, ChatMessage.toolCalls("", List.of(new ToolCall("call_other_id",
                "get_weather", "{\"city\":\"Paris\"}"))), ChatMessage.toolResult("call_other_id", "get_weather", "21 C"));
        Session.Turn t = s.begin(results, TEMPLATE);
        assertFalse(t.wholePrompt(), "the results continue the cached call (ids are not rendered)");
        assertEquals(List.of(results.getLast()), t.added());

        Session other = session(100);
        other.end(feed(other, FIRST, 3), false, ChatMessage.toolCalls("", List.of(call)), 5);
        Session.Turn abandoned = other.begin(plus(FIRST, ChatMessage.assistant(""), ChatMessage.user("Never mind.")),
                TEMPLATE);
        assertTrue(abandoned.wholePrompt(), "a prompt without the calls does not match the cache that holds them");
    }
}
