package io.streamingllm.core.session;

import io.streamingllm.core.InvalidIdException;
import io.streamingllm.core.agent.Agent;
import io.streamingllm.core.agent.AgentStore;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.echo.EchoEngine;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.ResponseFormat;
import io.streamingllm.core.engine.TokenCounter;
import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventLog;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.summary.Summary;
import io.streamingllm.core.summary.SummaryStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChatServiceTest {
    @TempDir
    Path dir;

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private SidecarConfig config(String... extra) {
        return configIn("data", extra);
    }

    private SidecarConfig configIn(String dataDir, String... extra) {
        Map<String, String> env = new HashMap<>();
        env.put(SidecarConfig.MODEL, "echo");
        env.put(SidecarConfig.DATA_DIR, dir.resolve(dataDir).toString());
        env.put(SidecarConfig.AGENTS_DIR, dir.resolve("agents").toString());
        for (int i = 0; i < extra.length; i += 2) {
            env.put(extra[i], extra[i + 1]);
        }
        return SidecarConfig.fromEnv(env);
    }

    private final class Stack {
        final SidecarConfig config;
        final RecordingEngine engine;
        final EventLog log;
        final SummaryStore summaries;
        final AgentStore agents;
        final ChatService chat;

        Stack(SidecarConfig config, int maxResident) {
            this.config = config;
            this.engine = new RecordingEngine(new EchoEngine(config.echoDelayMs()));
            this.log = new EventLog(config.logDir());
            this.summaries = new SummaryStore(config.summaryDir());
            this.agents = new AgentStore(config.agentsDir());
            this.chat = new ChatService(config, engine, agents, log, summaries, maxResident);
            toClose.add(log);
            toClose.add(chat);
        }

        Stack(SidecarConfig config) {
            this(config, 4096);
        }

        TurnResult turn(String conversationId, String text) {
            return chat.startTurn(new TurnRequest(conversationId, "planner", text, null), d -> { }).result().join();
        }

        List<Event> events(String conversationId) {
            try (Stream<Event> s = log.read(conversationId)) {
                return s.toList();
            }
        }
    }

    private static int promptTokens(RecordingEngine.Call call, TokenCounter counter) {
        return call.messages().stream().mapToInt(m -> counter.count(m.content())).sum();
    }

    @Test
    void streamsTokensAndLogsEachTurnDurably() {
        Stack s = new Stack(config());
        List<String> deltas = new ArrayList<>();
        Turn t = s.chat.startTurn(new TurnRequest("new", "planner", "hello there sidecar", null), deltas::add);
        TurnResult r = t.result().join();
        assertEquals("hello there sidecar", String.join("", deltas));
        assertEquals("hello there sidecar", r.text());
        assertEquals(FinishReason.STOP, r.finishReason());
        String id = t.conversationId();
        assertNotNull(id);

        s.turn(id, "second message");
        List<Event> events = s.events(id);
        assertEquals(List.of(EventType.USER_MESSAGE, EventType.ASSISTANT_MESSAGE, EventType.USER_MESSAGE,
                EventType.ASSISTANT_MESSAGE), events.stream().map(Event::type).toList());
        assertEquals("second message", events.get(3).payload().getString("content"));
        assertEquals("stop", events.get(3).payload().getString("finish_reason"));
        assertEquals("planner", events.get(0).payload().getString("agent_id"));

        // the second prompt carries the sink, the first turn and the new message
        List<ChatMessage> prompt = s.engine.last().messages();
        assertEquals(ChatMessage.Role.SYSTEM, prompt.get(0).role());
        assertTrue(prompt.get(0).content().contains(s.agents.get("planner").orElseThrow().systemPrompt()));
        assertEquals(List.of(ChatMessage.user("hello there sidecar"), ChatMessage.assistant("hello there sidecar"),
                ChatMessage.user("second message")), prompt.subList(1, 4));
        ConversationInfo info = s.chat.conversation(id).orElseThrow();
        assertEquals(2, info.turns());
        assertEquals("planner", info.agentId());
        assertEquals(0, info.window().evictedTurns());
    }

    @Test
    void optionsTheEngineCannotHonourAreRefusedBeforeAnythingIsLogged() {
        Stack s = new Stack(config());
        s.engine.refusal = "the local engine cannot enforce 'anyOf'";
        GenerationOptions json = GenerationOptions.DEFAULTS.withFormat(ResponseFormat.JSON);
        EngineException e = assertThrows(EngineException.class,
                () -> s.chat.startTurn(new TurnRequest("c-refused", "planner", "hi", json), d -> { }));
        assertEquals(EngineException.Kind.BAD_REQUEST, e.kind());
        assertThrows(EngineException.class, () -> s.chat.relay(new RelayRequest(List.of(ChatMessage.user("hi")),
                "c-relayed", json), d -> { }));
        assertEquals(List.of(), s.events("c-refused"));
        assertEquals(List.of(), s.events("c-relayed"));
        assertEquals(List.of(), s.engine.calls, "the engine never ran");
        assertEquals(FinishReason.STOP, s.chat.startTurn(new TurnRequest("c-refused", "planner", "hi", null), d -> { })
                .result().join().finishReason(), "the conversation is still free for a next turn");
    }

    @Test
    void tenThousandTurnsStayWithinTheBudgetAndEvictedTurnsReachTheSummary() {
        Stack s = new Stack(config(SidecarConfig.RECENT_SIZE, "64", SidecarConfig.SUMMARY_SIZE, "40"));
        s.agents.upsert(new Agent("tiny", "tiny", "Be brief.", ""));
        TokenCounter counter = s.engine.exactTokenCounter().orElseThrow();
        int sinkTokens = counter.count("Be brief.");
        String id = "endless";
        int budget = sinkTokens + 40 + 64 + counter.count("Summary of the earlier conversation:\n") + 2;
        int maxSeen = 0;
        for (int i = 1; i <= 10_000; i++) {
            s.chat.startTurn(new TurnRequest(id, "tiny", "message number " + i + " about topic " + (i % 7), null), d -> { })
                    .result().join();
            int used = promptTokens(s.engine.last(), counter);
            maxSeen = Math.max(maxSeen, used);
            assertTrue(used <= budget, "turn " + i + " prompt has " + used + " tokens, budget " + budget);
        }
        ConversationInfo info = s.chat.conversation(id).orElseThrow();
        assertEquals(10_000, info.turns());
        assertTrue(info.window().evictedTurns() > 9_000, "evicted " + info.window().evictedTurns());
        assertTrue(info.window().recentTokens() <= 64);

        Summary summary = s.chat.summary(id).orElseThrow();
        assertEquals(info.summaryRef(), summary.summaryRef());
        assertTrue(counter.count(summary.content()) <= 40, summary.content());
        // the newest evicted turn is in the summary verbatim; the oldest are in its compacted range
        Set<String> evictedIds = new HashSet<>();
        List<Event> events = s.events(id);
        events.stream().filter(e -> e.type() == EventType.SUMMARY_REFRESH)
                .forEach(e -> e.payload().getJsonArray("evicted_event_ids").getValuesAs(jakarta.json.JsonString.class)
                        .forEach(js -> evictedIds.add(js.getString())));
        List<Event> users = events.stream().filter(e -> e.type() == EventType.USER_MESSAGE).toList();
        int firstInWindow = users.size() - (int) users.stream().filter(e -> !evictedIds.contains(e.id())).count();
        assertEquals(info.window().evictedTurns(), evictedIds.size());
        assertEquals(firstInWindow, evictedIds.size(), "every turn before the window was evicted, none after");
        int lastEvictedTurn = firstInWindow;
        assertTrue(summary.content().contains("Turn " + lastEvictedTurn + " — user: message number " + lastEvictedTurn),
                summary.content());
        assertTrue(summary.content().contains("Turns 1–"), summary.content());
        assertTrue(maxSeen > 64, "the window was actually used: " + maxSeen);
    }

    @Test
    void restartRebuildsListHistoryWindowAndSummary() {
        // two identical histories: one process keeps running, the other restarts before the next turn
        Stack running = new Stack(configIn("data-a", SidecarConfig.RECENT_SIZE, "40", SidecarConfig.SUMMARY_SIZE, "30"));
        SidecarConfig cfg = configIn("data-b", SidecarConfig.RECENT_SIZE, "40", SidecarConfig.SUMMARY_SIZE, "30");
        Stack first = new Stack(cfg);
        for (Stack s : List.of(running, first)) {
            for (int i = 0; i < 30; i++) {
                s.turn("alpha", "alpha says something number " + i);
                if (i % 3 == 0) {
                    s.turn("beta", "beta line " + i);
                }
            }
        }
        List<ConversationInfo> before = first.chat.conversations();
        assertEquals(2, before.size());
        assertTrue(before.get(0).window().evictedTurns() > 0, "alpha has evicted turns");
        Summary summaryBefore = first.chat.summary("alpha").orElseThrow();
        List<Event> eventsBefore = first.events("alpha");
        first.chat.close();
        first.log.close();

        Stack second = new Stack(cfg);
        assertEquals(before, second.chat.conversations());
        assertEquals(eventsBefore, second.events("alpha"));
        assertEquals(summaryBefore, second.chat.summary("alpha").orElseThrow());

        running.turn("alpha", "probe");
        second.turn("alpha", "probe");
        assertEquals(running.engine.last().messages(), second.engine.last().messages(),
                "the restarted process sends the prompt the running one sends");
        assertEquals(running.chat.conversation("alpha").orElseThrow().window(),
                second.chat.conversation("alpha").orElseThrow().window());
    }

    @Test
    void oneTurnAtATimePerConversation() throws Exception {
        Stack s = new Stack(config());
        CountDownLatch firstToken = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Turn t = s.chat.startTurn(new TurnRequest("busy", "planner", "one two three", null), d -> {
            firstToken.countDown();
            try {
                release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        assertTrue(firstToken.await(10, TimeUnit.SECONDS));
        SessionException e = assertThrows(SessionException.class,
                () -> s.chat.startTurn(new TurnRequest("busy", "planner", "again", null), d -> { }));
        assertEquals(SessionException.Kind.BUSY, e.kind());
        // another conversation is not blocked
        assertEquals("other", s.turn("other", "other").text());
        release.countDown();
        t.result().join();
        assertEquals("again", s.turn("busy", "again").text());
        assertEquals(0, s.chat.activeTurns());
    }

    @Test
    void cancelledTurnIsLoggedWithPartialTextButNeverFedAgain() throws Exception {
        Stack s = new Stack(config(SidecarConfig.ECHO_DELAY_MS, "5"));
        CountDownLatch two = new CountDownLatch(2);
        Turn t = s.chat.startTurn(new TurnRequest("c1", "planner", "a b c d e f g h i j k l m n o p", null),
                d -> two.countDown());
        assertTrue(two.await(10, TimeUnit.SECONDS));
        t.cancel();
        TurnResult r = t.result().join();
        assertEquals(FinishReason.CANCELLED, r.finishReason());
        assertTrue(r.text().startsWith("a b"), r.text());
        assertFalse(r.text().endsWith("p"));
        Event assistant = s.events("c1").get(1);
        assertEquals("cancelled", assistant.payload().getString("finish_reason"));
        assertEquals(r.text(), assistant.payload().getString("content"));

        s.turn("c1", "next");
        List<ChatMessage> prompt = s.engine.last().messages();
        assertEquals(List.of(ChatMessage.user("next")), prompt.subList(1, prompt.size()));
    }

    @Test
    void refusesBadRequestsBeforeLoggingAnything() {
        Stack s = new Stack(config());
        assertEquals(SessionException.Kind.UNKNOWN_AGENT, assertThrows(SessionException.class,
                () -> s.chat.startTurn(new TurnRequest("x", "nobody", "hi", null), d -> { })).kind());
        assertEquals(SessionException.Kind.BAD_REQUEST, assertThrows(SessionException.class,
                () -> s.chat.startTurn(new TurnRequest("x", "planner", "  ", null), d -> { })).kind());
        assertEquals(SessionException.Kind.BAD_REQUEST, assertThrows(SessionException.class,
                () -> s.chat.startTurn(new TurnRequest("x", "", "hi", null), d -> { })).kind());
        for (String bad : List.of("../x", "a/b", "a".repeat(300), "a\0b")) {
            assertThrows(InvalidIdException.class,
                    () -> s.chat.startTurn(new TurnRequest(bad, "planner", "hi", null), d -> { }));
        }
        s.turn("owned", "hi");
        s.agents.upsert(new Agent("other", "other", "x", ""));
        assertEquals(SessionException.Kind.AGENT_MISMATCH, assertThrows(SessionException.class,
                () -> s.chat.startTurn(new TurnRequest("owned", "other", "hi", null), d -> { })).kind());
        Stack small = new Stack(configIn("small", SidecarConfig.RECENT_SIZE, "4")); // one log per directory
        assertEquals(SessionException.Kind.TOO_LARGE, assertThrows(SessionException.class,
                () -> small.chat.startTurn(new TurnRequest("big", "planner", "one two three four five", null), d -> { })).kind());
        assertEquals(List.of("owned"), s.log.conversationIds());
        assertFalse(Files.exists(dir.resolve("x.jsonl")));
    }

    @Test
    void idleConversationsLeaveMemoryAndComeBackUnchanged() {
        Stack s = new Stack(config(SidecarConfig.RECENT_SIZE, "30"), 3);
        Map<String, ConversationInfo> infos = new HashMap<>();
        for (int c = 0; c < 12; c++) {
            for (int i = 0; i < 8 + 3 * c; i++) {
                s.turn("conv" + c, "conversation " + c + " turn " + i);
            }
            infos.put("conv" + c, s.chat.conversation("conv" + c).orElseThrow());
            assertTrue(s.chat.residentConversations() <= 3, "resident " + s.chat.residentConversations());
        }
        // the listing describes idle conversations from the end of their logs: the same as loading them
        List<ConversationInfo> listed = s.chat.conversations();
        assertEquals(12, listed.size());
        for (ConversationInfo info : listed) {
            assertEquals(infos.get(info.conversationId()), info);
        }
        for (int c = 0; c < 12; c++) {
            assertEquals(infos.get("conv" + c), s.chat.conversation("conv" + c).orElseThrow());
        }
        assertTrue(listed.stream().filter(i -> i.summaryRef() != null).count() >= 6, "summaries exist: " + listed);
        s.turn("conv0", "back again");
        List<ChatMessage> prompt = s.engine.last().messages();
        assertEquals(ChatMessage.user("conversation 0 turn 7"), prompt.get(prompt.size() - 3));
    }

    @Test
    void disabledStreamingSendsTheWholeHistory() {
        Stack s = new Stack(config(SidecarConfig.ENABLE, "0", SidecarConfig.RECENT_SIZE, "8"));
        for (int i = 0; i < 20; i++) {
            s.turn("full", "turn number " + i + " has five words");
        }
        List<ChatMessage> prompt = s.engine.last().messages();
        assertEquals(1 + 19 * 2 + 1, prompt.size());
        assertEquals(0, s.chat.conversation("full").orElseThrow().window().evictedTurns());
        assertTrue(s.chat.summary("full").isEmpty());
    }

    @Test
    void llmModeRewritesTheSummaryAfterTheTurn() {
        Stack s = new Stack(config(SidecarConfig.RECENT_SIZE, "20", SidecarConfig.SUMMARY_SIZE, "60",
                SidecarConfig.SUMMARY_MODE, "llm"));
        for (int i = 0; i < 10; i++) {
            s.turn("llm", "fact number " + i + " is blue");
        }
        s.turn("llm", "flush");
        Summary summary = s.chat.summary("llm").orElseThrow(); // waits for a rewrite still under way
        List<Event> refreshes = s.events("llm").stream().filter(e -> e.type() == EventType.SUMMARY_REFRESH).toList();
        assertTrue(refreshes.stream().anyMatch(e -> e.payload().getString("mode").equals("llm")));
        assertEquals(refreshes.get(refreshes.size() - 1).payload().getString("summary_ref"), summary.summaryRef());
        assertTrue(s.engine.calls.stream().anyMatch(c -> c.messages().get(c.messages().size() - 1).content()
                .startsWith("Rewrite this summary")));
    }

    @Test
    void relayWindowsClientHistoryAndLogsNamedConversations() {
        Stack s = new Stack(config(SidecarConfig.RECENT_SIZE, "10", SidecarConfig.SUMMARY_SIZE, "40"));
        List<ChatMessage> history = new ArrayList<>();
        history.add(ChatMessage.system("You are terse."));
        for (int i = 0; i < 6; i++) {
            history.add(ChatMessage.user("question " + i + " here"));
            history.add(ChatMessage.assistant("answer " + i + " here"));
        }
        history.add(ChatMessage.user("final question now"));
        List<String> out = new ArrayList<>();
        TurnResult r = s.chat.relay(new RelayRequest(history, null, new GenerationOptions(null, 2, null, null, null, null)),
                out::add).result().join();
        assertEquals(FinishReason.LENGTH, r.finishReason());
        assertEquals("final question", String.join("", out));
        List<ChatMessage> sent = s.engine.last().messages();
        assertTrue(sent.get(0).content().startsWith("You are terse."));
        // window of 10 tokens keeps "question 5 here", "answer 5 here", "final question now"; the newest
        // evicted exchange is in the summary
        assertEquals(List.of(ChatMessage.user("question 5 here"), ChatMessage.assistant("answer 5 here"),
                ChatMessage.user("final question now")), sent.subList(1, sent.size()));
        assertTrue(sent.get(0).content().contains("Turn 5 — user: question 4 here — assistant: answer 4 here"),
                sent.get(0).content());
        assertTrue(s.log.conversationIds().isEmpty(), "nothing logged without a conversation id");

        s.chat.relay(new RelayRequest(history, "api-conv", null), d -> { }).result().join();
        List<Event> events = s.events("api-conv");
        assertEquals(List.of(EventType.USER_MESSAGE, EventType.ASSISTANT_MESSAGE),
                events.stream().map(Event::type).toList());
        assertEquals("final question now", events.get(0).payload().getString("content"));
        assertEquals(ChatService.RELAY_AGENT, s.chat.conversation("api-conv").orElseThrow().agentId());
    }

    @Test
    void archiveMovesFilesAndForgetsTheConversation() {
        Stack s = new Stack(config(SidecarConfig.RECENT_SIZE, "12"));
        for (int i = 0; i < 6; i++) {
            s.turn("old", "some words for turn " + i);
        }
        assertTrue(s.chat.summary("old").isPresent());
        assertTrue(s.chat.archive("old"));
        assertTrue(s.chat.conversation("old").isEmpty());
        assertFalse(s.chat.archive("old"));
        try (Stream<Path> files = Files.list(s.config.archiveDir())) {
            Set<String> names = files.map(p -> p.getFileName().toString()).collect(Collectors.toSet());
            assertTrue(names.stream().anyMatch(n -> n.startsWith("old") && n.contains(".jsonl")), names.toString());
            assertTrue(names.stream().anyMatch(n -> n.startsWith("old") && n.endsWith(".md")), names.toString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        assertEquals("fresh", s.turn("old", "fresh").text());
        assertEquals(1, s.chat.conversation("old").orElseThrow().turns());
    }
}
