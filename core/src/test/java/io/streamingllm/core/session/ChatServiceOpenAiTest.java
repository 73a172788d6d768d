package io.streamingllm.core.session;

import io.streamingllm.core.agent.AgentStore;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.openai.OpenAiEngine;
import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventLog;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.session.payload.AssistantMessage;
import io.streamingllm.core.session.payload.SummaryRefresh;
import io.streamingllm.core.session.payload.TurnError;
import io.streamingllm.core.session.payload.UserMessage;
import io.streamingllm.core.summary.SummaryStore;
import io.streamingllm.core.testing.FakeOpenAi;
import io.streamingllm.core.testing.FakeOpenAi.Reply;
import jakarta.json.JsonArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sessions over the OpenAI-compatible engine against the fake server: when the server says the prompt does not fit
 * its context, the turn is retried once in a smaller window, and the shrink is logged.
 */
class ChatServiceOpenAiTest {
    private static final String MODEL = "small-context";
    private static final String LONG = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen";

    @TempDir
    Path dir;

    private FakeOpenAi openai;
    private SidecarConfig cfg;
    private EventLog log;
    private ChatService chat;

    @BeforeEach
    void start() {
        openai = FakeOpenAi.start(MODEL);
        cfg = SidecarConfig.fromEnv(Map.of(
                SidecarConfig.MODEL, "openai:" + MODEL,
                SidecarConfig.OPENAI_URL, openai.baseUri().toString(),
                SidecarConfig.DATA_DIR, dir.resolve("data").toString(),
                SidecarConfig.AGENTS_DIR, dir.resolve("agents").toString(),
                SidecarConfig.RECENT_SIZE, "2048"));
        open();
    }

    private void open() {
        log = new EventLog(cfg.logDir());
        chat = new ChatService(cfg, new OpenAiEngine(cfg.openAiUrl(), MODEL, null, Duration.ofSeconds(10)),
                new AgentStore(cfg.agentsDir()), log, new SummaryStore(cfg.summaryDir()));
    }

    @AfterEach
    void stop() {
        chat.close();
        log.close();
        openai.close();
    }

    private List<Event> events(String id) {
        try (Stream<Event> s = log.read(id)) {
            return s.toList();
        }
    }

    private TurnResult turn(String conversation, String text) {
        return chat.startTurn(new TurnRequest(conversation, "planner", text, null), d -> { }).result().join();
    }

    private JsonArray messagesOf(int chatRequest) {
        return openai.exchanges(FakeOpenAi.CHAT).get(chatRequest).json().getJsonArray("messages");
    }

    @Test
    void aPromptOverTheServersContextIsRetriedOnceInASmallerWindowAndTheShrinkIsLogged() {
        for (int i = 1; i <= 6; i++) {
            turn("c1", "turn " + i + " " + LONG);
        }
        assertEquals(0, chat.conversation("c1").orElseThrow().window().evictedTurns(), "all of it fits the window");
        // the server's context is smaller than the sidecar's window: the 7th prompt does not fit
        AtomicInteger calls = new AtomicInteger();
        openai.reply(ex -> calls.getAndIncrement() == 0 ? Reply.contextLengthVllm() : Reply.tokens("fits", " now"));
        TurnResult r = turn("c1", "turn 7 " + LONG);
        assertEquals("fits now", r.text());

        assertEquals(8, openai.exchanges(FakeOpenAi.CHAT).size(), "6 turns, the refused prompt, its one retry");
        JsonArray refused = messagesOf(6);
        JsonArray retried = messagesOf(7);
        assertEquals(1 + 12 + 1, refused.size(), "system, six turns, the new message");
        assertTrue(retried.size() < refused.size(), "fewer messages: " + retried.size());
        assertEquals("turn 7 " + LONG, retried.getJsonObject(retried.size() - 1).getString("content"), "the new message stays");
        assertEquals("system", retried.getJsonObject(0).getString("role"));
        assertTrue(retried.getJsonObject(0).getString("content").contains("Summary of the earlier conversation"),
                "what left the window is summarised, not dropped: " + retried.getJsonObject(0));

        List<Event> events = events("c1");
        List<Event> lastTurn = events.subList(events.size() - 3, events.size());
        assertEquals(List.of(EventType.USER_MESSAGE, EventType.SUMMARY_REFRESH, EventType.ASSISTANT_MESSAGE),
                lastTurn.stream().map(Event::type).toList(), "the shrink is an event of the turn");
        SummaryRefresh shrink = SummaryRefresh.from(lastTurn.get(1).payload());
        int evicted = (refused.size() - retried.size()) / 2;
        assertEquals(evicted, shrink.evictedEventIds().size());
        assertEquals(evicted, shrink.evictedTurns());
        String firstUserId = events.stream().filter(e -> e.type() == EventType.USER_MESSAGE).findFirst().orElseThrow().id();
        assertEquals(firstUserId, shrink.evictedEventIds().getFirst(), "the oldest turns leave first");
        AssistantMessage reply = AssistantMessage.from(lastTurn.get(2).payload());
        assertEquals(evicted, reply.window().evictedTurns(), "the reply's window report says what the shrink did");
        assertEquals(reply.window(), chat.conversation("c1").orElseThrow().window());

        // the log alone gives the same conversation back
        chat.close();
        log.close();
        open();
        assertEquals(reply.window(), chat.conversation("c1").orElseThrow().window());
        openai.reply(Reply.tokens("ok"));
        turn("c1", "turn 8");
        assertEquals(retried.size() + 2, messagesOf(8).size(), "the next prompt builds on the smaller window");
    }

    @Test
    void whenTheSmallerWindowDoesNotFitEitherTheTurnFailsWithContextLength() {
        for (int i = 1; i <= 4; i++) {
            turn("c2", "turn " + i + " " + LONG);
        }
        openai.reply(Reply.contextLengthLlamaServer());
        Turn t = chat.startTurn(new TurnRequest("c2", "planner", "too much", null), d -> { });
        CompletionException e = assertThrows(CompletionException.class, () -> t.result().join());
        EngineException ee = assertInstanceOf(EngineException.class, e.getCause());
        assertEquals(EngineException.Kind.CONTEXT_LENGTH, ee.kind());
        assertEquals(6, openai.exchanges(FakeOpenAi.CHAT).size(), "one retry, not more");
        List<Event> events = events("c2");
        Event error = events.getLast();
        assertEquals(EventType.ERROR, error.type());
        assertEquals(EngineException.Kind.CONTEXT_LENGTH, TurnError.from(error.payload()).kind());
    }

    @Test
    void aFirstTurnWithNothingToLeaveOutIsNotRetried() {
        openai.reply(Reply.contextLengthOpenAi());
        Turn t = chat.startTurn(new TurnRequest("c3", "planner", "hello", null), d -> { });
        CompletionException e = assertThrows(CompletionException.class, () -> t.result().join());
        assertEquals(EngineException.Kind.CONTEXT_LENGTH, assertInstanceOf(EngineException.class, e.getCause()).kind());
        assertEquals(1, openai.exchanges(FakeOpenAi.CHAT).size());
        assertEquals(EventType.USER_MESSAGE, events("c3").getFirst().type());
        assertEquals("hello", UserMessage.from(events("c3").getFirst().payload()).content());
    }

    @Test
    void aContextErrorAfterTokensStreamedIsNotRetried() {
        openai.reply(Reply.tokens("half", " an", " answer").errorAfter(1,
                "This model's maximum context length is 2048 tokens."));
        List<String> deltas = new ArrayList<>();
        Turn t = chat.startTurn(new TurnRequest("c4", "planner", "hello", null), deltas::add);
        assertThrows(CompletionException.class, () -> t.result().join());
        assertEquals(List.of("half"), deltas, "what the client saw is not streamed twice");
        assertEquals(1, openai.exchanges(FakeOpenAi.CHAT).size());
    }

    @Test
    void aRelayedCallOverTheContextIsRetriedWithTheNewestHalfOfItsDialogue() {
        List<ChatMessage> messages = new ArrayList<>();
        messages.add(ChatMessage.system("You are terse."));
        for (int i = 1; i <= 5; i++) {
            messages.add(ChatMessage.user("question " + i + " " + LONG));
            messages.add(ChatMessage.assistant("answer " + i + " " + LONG));
        }
        messages.add(ChatMessage.user("last question"));
        AtomicInteger calls = new AtomicInteger();
        openai.reply(ex -> calls.getAndIncrement() == 0 ? Reply.contextLengthVllm() : Reply.tokens("short"));
        TurnResult r = chat.relay(new RelayRequest(messages, null, null), d -> { }).result().join();
        assertEquals("short", r.text());
        JsonArray refused = messagesOf(0);
        JsonArray retried = messagesOf(1);
        assertEquals(messages.size(), refused.size());
        assertTrue(retried.size() < refused.size() && retried.size() >= 2, "smaller: " + retried.size());
        assertEquals("last question", retried.getJsonObject(retried.size() - 1).getString("content"));
        assertTrue(retried.getJsonObject(0).getString("content").startsWith("You are terse."), "the sink stays first");
        assertTrue(retried.getJsonObject(0).getString("content").contains("Summary of the earlier conversation"));
    }

    @Test
    void aLoggedConversationsRelayedCallsGetTheWindowOfTheHistoryTheySendEvenWhenTheClientEditsIt() {
        // a second sidecar that sees every history once, in a conversation of its own, so it keeps nothing from one
        // call to the next; no usage in the replies, so that neither calibrates its chars per token (a usage chunk
        // late on a loaded machine is not waited for, and one sidecar would learn from a call the other did not)
        SidecarConfig small = SidecarConfig.fromEnv(Map.of(
                SidecarConfig.MODEL, "openai:" + MODEL,
                SidecarConfig.OPENAI_URL, openai.baseUri().toString(),
                SidecarConfig.DATA_DIR, dir.resolve("fresh").toString(),
                SidecarConfig.AGENTS_DIR, dir.resolve("agents").toString(),
                SidecarConfig.RECENT_SIZE, "60",
                SidecarConfig.SUMMARY_SIZE, "200"));
        EventLog freshLog = new EventLog(small.logDir());
        try (ChatService fresh = new ChatService(small, new OpenAiEngine(small.openAiUrl(), MODEL, null,
                Duration.ofSeconds(10)), new AgentStore(small.agentsDir()), freshLog, new SummaryStore(small.summaryDir()))) {
            chat.close();
            log.close();
            cfg = SidecarConfig.fromEnv(Map.of(
                    SidecarConfig.MODEL, "openai:" + MODEL,
                    SidecarConfig.OPENAI_URL, openai.baseUri().toString(),
                    SidecarConfig.DATA_DIR, dir.resolve("data").toString(),
                    SidecarConfig.AGENTS_DIR, dir.resolve("agents").toString(),
                    SidecarConfig.RECENT_SIZE, "60",
                    SidecarConfig.SUMMARY_SIZE, "200"));
            open();
            openai.reply(Reply.tokens("Noted; ", "the next ", "one. And more.").withoutUsage());
            List<ChatMessage> history = new ArrayList<>(List.of(ChatMessage.system("Be brief."),
                    ChatMessage.user("Question 1; about " + LONG + ". Second sentence.")));
            List<String> newest = new ArrayList<>();
            String systemAtEdit = "";
            for (int call = 1; call <= 24; call++) {
                if (call == 12) {
                    // the client edits its earlier questions: those evicted (in the summary), and one still in the window
                    for (int i = 1; i < history.size() - 1; i++) {
                        if (history.get(i).role() == ChatMessage.Role.USER) {
                            history.set(i, ChatMessage.user("Edited " + history.get(i).content()));
                        }
                    }
                } else if (call == 18) {
                    history.subList(history.size() - 5, history.size() - 1).clear(); // and sends a shorter one
                }
                newest.add(history.getLast().content());
                String reply = chat.relay(new RelayRequest(history, "conv", null), d -> { }).result().join().text();
                fresh.relay(new RelayRequest(history, "fresh-" + call, null), d -> { }).result().join();
                List<FakeOpenAi.Exchange> sent = openai.exchanges(FakeOpenAi.CHAT);
                assertEquals(sent.get(sent.size() - 1).json().getJsonArray("messages"),
                        sent.get(sent.size() - 2).json().getJsonArray("messages"), "call " + call);
                if (call == 12) {
                    systemAtEdit = messagesOf(sent.size() - 2).getJsonObject(0).getString("content");
                }
                history.add(ChatMessage.assistant(reply));
                history.add(ChatMessage.user("Question " + (call + 1) + " " + LONG.substring(0, 10 + call * 2) + "; fine?"));
            }
            String lastSystem = messagesOf(openai.exchanges(FakeOpenAi.CHAT).size() - 2).getJsonObject(0).getString("content");
            assertTrue(lastSystem.contains("(compacted)"), "the older turns compacted in the summary: " + lastSystem);
            assertTrue(systemAtEdit.contains(": Edited Question"), "the edited turns summarised as edited: "
                    + systemAtEdit);
            assertEquals(newest, events("conv").stream().filter(e -> e.type() == EventType.USER_MESSAGE)
                    .map(e -> UserMessage.from(e.payload()).content()).toList(), "each call logs its newest message");
        } finally {
            freshLog.close();
        }
    }
}
