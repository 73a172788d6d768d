package io.streamingllm.core.session;

import io.streamingllm.core.agent.Agent;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.ResponseFormat;
import io.streamingllm.core.engine.TokenCounter;
import io.streamingllm.core.session.payload.WindowState;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static io.streamingllm.core.engine.ChatMessage.assistant;
import static io.streamingllm.core.engine.ChatMessage.system;
import static io.streamingllm.core.engine.ChatMessage.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PromptWindowTest {
    /** One token a word, so the budgets below can be read off the texts. */
    private static final TokenCounter WORDS = new TokenCounter() {
        @Override
        public int count(String text) {
            return text.isBlank() ? 0 : text.strip().split("\\s+").length;
        }

        @Override
        public boolean exact() {
            return true;
        }
    };

    private static PromptWindow window(String... extra) {
        Map<String, String> env = new HashMap<>();
        env.put(SidecarConfig.MODEL, "echo");
        env.put(SidecarConfig.DATA_DIR, Path.of("unused").toString());
        env.put(SidecarConfig.RECENT_SIZE, "10");
        env.put(SidecarConfig.SUMMARY_SIZE, "60");
        env.put(SidecarConfig.START_SIZE, "4");
        env.put(SidecarConfig.MAX_NEW_TOKENS, "50");
        for (int i = 0; i < extra.length; i += 2) {
            env.put(extra[i], extra[i + 1]);
        }
        return new PromptWindow(SidecarConfig.fromEnv(env), new TokenEstimator(WORDS));
    }

    private static ConversationState conversation(String... exchanges) {
        ConversationState c = new ConversationState("c", "planner");
        for (int i = 0; i < exchanges.length; i += 2) {
            c.addRecent(new RecentTurn(i / 2 + 1, "u" + i, exchanges[i], exchanges[i + 1],
                    WORDS.count(exchanges[i]) + WORDS.count(exchanges[i + 1])));
        }
        return c;
    }

    @Test
    void theSinkIsTheSystemPromptThenTheContext() {
        assertEquals("Be brief.\n\nKnow this.", PromptWindow.sinkText(new Agent("a", "a", " Be brief. ", "\nKnow this.\n")));
        assertEquals("Know this.", PromptWindow.sinkText(new Agent("a", "a", null, "Know this.")));
        assertEquals("Be brief.", PromptWindow.sinkText(new Agent("a", "a", "Be brief.", " ")));
        assertEquals("", PromptWindow.sinkText(new Agent("a", "a", null, null)));
    }

    @Test
    void aConversationsPromptIsSinkAndSummaryThenRecentTurnsThenTheNewMessage() {
        ConversationState c = conversation("q1", "a1", "q2", "a2");
        c.summarised("- Turn 0 — user: hi", "ref", 6);
        assertEquals(List.of(system("Be brief.\n\nSummary of the earlier conversation:\n- Turn 0 — user: hi"),
                        user("q1"), assistant("a1"), user("q2"), assistant("a2"), user("new")),
                window().prompt(c, "Be brief.", "new"));

        assertEquals(List.of(system("Summary of the earlier conversation:\n- Turn 0 — user: hi"), user("new")),
                window().prompt(withSummaryOnly(), "", "new"), "no sink: the summary alone");
        assertEquals(List.of(user("q1"), assistant("a1"), user("new")),
                window().prompt(conversation("q1", "a1"), "", "new"), "neither: no system message");
    }

    private static ConversationState withSummaryOnly() {
        ConversationState c = conversation();
        c.summarised("- Turn 0 — user: hi", "ref", 6);
        return c;
    }

    @Test
    void anOverflowEvictsTheOldestTurnsDownToThreeQuartersOfTheWindow() {
        // 4 turns of 2 tokens: 8 of 10
        ConversationState c = conversation("q1", "a1", "q2", "a2", "q3", "a3", "q4", "a4");
        assertEquals(List.of(), window().evictFor(c, 2), "8 + 2 fits");
        List<RecentTurn> evicted = window().evictFor(c, 3);
        // 8 + 3 > 10: down to 7 (75 %) at most, so two turns go and 4 + 3 remain
        assertEquals(List.of("q1", "q2"), evicted.stream().map(RecentTurn::user).toList());
        assertEquals(4, c.recentTokens);
        assertEquals(2, c.evictedTurns);

        ConversationState off = conversation("q1", "a1", "q2", "a2", "q3", "a3", "q4", "a4");
        assertEquals(List.of(), window(SidecarConfig.ENABLE, "0").evictFor(off, 30), "streaming off: nothing leaves");
    }

    @Test
    void aMessageLargerThanTheWholeWindowIsRefused() {
        window().requireFits(10);
        SessionException e = assertThrows(SessionException.class, () -> window().requireFits(11));
        assertEquals(SessionException.Kind.TOO_LARGE, e.kind());
        window(SidecarConfig.ENABLE, "0").requireFits(1_000);
    }

    @Test
    void aRelayedHistoryKeepsTheNewestMessagesThatFitAndSummarisesTheRest() {
        List<ChatMessage> dialogue = List.of(assistant("welcome"), user("first question here"),
                user("second question"), assistant("second answer right here"), user("third q"), assistant("third a"),
                user("the new message"));
        // newest first: 3 + 2 + 2 = 7 fit in 10, "second answer right here" (4 more) does not
        List<ChatMessage> prompt = window().relayed("Be brief.", dialogue);
        assertEquals(List.of(user("third q"), assistant("third a"), user("the new message")), prompt.subList(1, 4));
        assertEquals(system("Be brief.\n\nSummary of the earlier conversation:\nEarlier in this conversation:\n"
                        + "- Turn 1 — user: (empty) — assistant: welcome\n"
                        + "- Turn 2 — user: first question here — assistant: (empty)\n"
                        + "- Turn 3 — user: second question — assistant: second answer right here\n"),
                prompt.get(0));

        List<ChatMessage> tooBig = List.of(user("old"), user("one two three four five six seven eight nine ten eleven"));
        assertEquals(List.of(system("Summary of the earlier conversation:\nEarlier in this conversation:\n"
                        + "- Turn 1 — user: old — assistant: (empty)\n"), tooBig.get(1)),
                window().relayed("", tooBig), "the newest message is kept even when it alone overflows");
        assertEquals(dialogue, window(SidecarConfig.ENABLE, "0").relayed("", dialogue), "streaming off: all of it");
    }

    @Test
    void aRelayedWindowSaysWhatItDid() {
        List<ChatMessage> dialogue = List.of(assistant("welcome"), user("first question here"),
                user("second question"), assistant("second answer right here"), user("third q"), assistant("third a"),
                user("the new message"));
        PromptWindow.RelayedWindow w = window().relayedWindow("Be brief.", dialogue);
        assertEquals(window().relayed("Be brief.", dialogue), w.prompt());
        assertEquals(2, w.window().sinkTokens());
        assertEquals(7, w.window().recentTokens(), "third q, third a, the new message");
        assertEquals(3, w.window().evictedTurns(), "the three turns folded into the summary");
        assertTrue(w.window().summaryTokens() > 0);

        PromptWindow.RelayedWindow all = window().relayedWindow("", List.of(user("a b"), assistant("c")));
        assertEquals(new WindowState(0, 0, 3, 0), all.window(), "nothing left the window");
    }

    @Test
    void theGenerationIsSizedToTheWindow() {
        List<ChatMessage> prompt = List.of(system("a b c d e f"), user("g h"));
        GenerationOptions requested = new GenerationOptions(0.2, null, 7L, List.of("STOP"), 999, 999);
        // sink 6 + summary 60 + recall 2 (a quarter of recent by default) + recent 10 + 50 new; keep covers the sink
        // (more than START_SIZE 4)
        assertEquals(new GenerationOptions(0.2, 50, 7L, List.of("STOP"), 128, 6), window().options(requested, 6, prompt));
        assertEquals(new GenerationOptions(null, 5, null, List.of(), 78, 4),
                window().options(new GenerationOptions(null, 5, null, null, null, null), 1, prompt));
        // streaming off: the whole prompt as it is, plus the new tokens
        assertEquals(new GenerationOptions(null, 50, null, List.of(), 58, 6),
                window(SidecarConfig.ENABLE, "0").options(null, 6, prompt));
        assertTrue(window().options(null, 0, prompt).keepTokens() >= 4, "never below START_SIZE");
        assertEquals(126, window(SidecarConfig.RECALL_SIZE, "0").options(requested, 6, prompt).contextTokens(),
                "no room for recall when it is off");
        assertEquals(ResponseFormat.JSON, window().options(requested.withFormat(ResponseFormat.JSON), 6, prompt).format(),
                "the requested response format reaches the engine");
    }
}
