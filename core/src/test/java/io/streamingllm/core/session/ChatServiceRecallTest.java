package io.streamingllm.core.session;

import io.streamingllm.core.agent.AgentStore;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.echo.EchoEngine;
import io.streamingllm.core.engine.echo.WordTokens;
import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventLog;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.recall.RecallIndex;
import io.streamingllm.core.session.payload.AssistantMessage;
import io.streamingllm.core.session.payload.UserMessage;
import io.streamingllm.core.summary.SummaryStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Recall in the prompt: {@code [sink][summary][recall][recent][new]} over a real log, index and engine. */
class ChatServiceRecallTest {
    private static final Pattern RECALLED_TURN = Pattern.compile("\\[turn (\\d+)] User:");

    @TempDir
    Path dir;

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private SidecarConfig config(String recallSize) {
        return config(recallSize, "data");
    }

    private SidecarConfig config(String recallSize, String dataDir) {
        Map<String, String> env = new HashMap<>();
        env.put(SidecarConfig.MODEL, "echo");
        env.put(SidecarConfig.DATA_DIR, dir.resolve(dataDir).toString());
        env.put(SidecarConfig.AGENTS_DIR, dir.resolve("agents").toString());
        env.put(SidecarConfig.RECENT_SIZE, "60");
        env.put(SidecarConfig.SUMMARY_SIZE, "20");
        env.put(SidecarConfig.RECALL_SIZE, recallSize);
        return SidecarConfig.fromEnv(env);
    }

    private final class Stack {
        final SidecarConfig config;
        final RecordingEngine engine;
        final EventLog log;
        final ChatService chat;
        final RecallIndex index;

        Stack(SidecarConfig config) {
            this.config = config;
            this.engine = new RecordingEngine(new EchoEngine(0));
            this.log = new EventLog(config.logDir());
            this.index = new RecallIndex(config.indexDir());
            this.chat = new ChatService(config, engine, new AgentStore(config.agentsDir()), log,
                    new SummaryStore(config.summaryDir()), ChatService.DEFAULT_MAX_RESIDENT, index);
            toClose.add(log);
            toClose.add(index);
            toClose.add(chat);
        }

        /** A turn, a second or more after the one before as with people and models: what was indexed is visible. */
        String turn(String conversationId, String text) {
            index.refreshNow();
            return chat.startTurn(new TurnRequest(conversationId, "planner", text, null), d -> { }).result().join()
                    .conversationId();
        }

        List<Event> events(String conversationId, EventType type) {
            try (Stream<Event> s = log.read(conversationId)) {
                return s.filter(e -> e.type() == type).toList();
            }
        }

        String system() {
            ChatMessage first = engine.last().messages().get(0);
            assertEquals(ChatMessage.Role.SYSTEM, first.role());
            return first.content();
        }
    }

    private static String filler(int n) {
        return "we talked about the weather and the rivers and the hills today, number " + n;
    }

    private static List<Integer> recalledTurns(String system) {
        List<Integer> turns = new ArrayList<>();
        Matcher m = RECALLED_TURN.matcher(system);
        while (m.find()) {
            turns.add(Integer.parseInt(m.group(1)));
        }
        return turns;
    }

    @Test
    void anEvictedTurnRelevantToTheNewMessageComesBackWholeAndTheChoiceIsLogged() {
        Stack s = new Stack(config("40"));
        String id = s.turn("new", "please remember my locker code is 4471");
        for (int n = 2; n <= 10; n++) {
            s.turn(id, filler(n));
        }
        s.turn(id, "what was my locker code again?");

        String system = s.system();
        assertTrue(system.contains(Recall.HEADER + "\n[turn 1] User: please remember my locker code is 4471\n"
                + "[turn 1] Assistant: please remember my locker code is 4471"), system);
        // [sink][summary][recall]: the recall block follows the summary in the one system message
        assertTrue(system.indexOf("Summary of the earlier conversation") < system.indexOf(Recall.HEADER), system);
        List<ChatMessage> prompt = s.engine.last().messages();
        assertEquals(ChatMessage.user("what was my locker code again?"), prompt.get(prompt.size() - 1));
        assertFalse(prompt.subList(1, prompt.size()).stream().anyMatch(m -> m.content().contains("4471")),
                "turn 1 is not in the window: it is in the prompt only as recalled");

        UserMessage logged = UserMessage.from(s.events(id, EventType.USER_MESSAGE).get(10).payload());
        String firstUserId = s.events(id, EventType.USER_MESSAGE).get(0).id();
        assertEquals(List.of(firstUserId), logged.recalledEventIds());
        String block = system.substring(system.indexOf(Recall.HEADER));
        assertEquals(WordTokens.count(block), logged.recallTokens());
        assertTrue(logged.recallTokens() <= 40, "within STREAMING_LLM_RECALL_SIZE");
        AssistantMessage reply = AssistantMessage.from(s.events(id, EventType.ASSISTANT_MESSAGE).get(10).payload());
        assertEquals(logged.recallTokens(), reply.window().recallTokens());
        assertEquals(logged.recallTokens(), s.chat.conversation(id).orElseThrow().window().recallTokens());
        // the context the engine is asked for makes room for the recall budget
        assertTrue(s.engine.last().options().contextTokens() >= 60 + 20 + 40);
    }

    @Test
    void recallStaysWithinItsBudgetTakesTheMostRelevantFirstAndPutsThemInConversationOrder() {
        // the header takes 14 tokens, turn 2 (both sides, labelled) 30, turn 1 18: 50 holds turn 2 alone
        Stack small = new Stack(config("50"));
        String id = small.turn("new", "the garage door code is 1234");
        small.turn(id, "my locker code is 4471 and the locker is number 12 locker");
        for (int n = 3; n <= 10; n++) {
            small.turn(id, filler(n));
        }
        small.turn(id, "which locker code did I give you for the locker?");
        assertEquals(List.of(2), recalledTurns(small.system()), "room for one turn: the most relevant");

        Stack big = new Stack(config("120", "data2"));
        String id2 = big.turn("new", "the garage door code is 1234");
        big.turn(id2, "my locker code is 4471 and the locker is number 12 locker");
        for (int n = 3; n <= 10; n++) {
            big.turn(id2, filler(n));
        }
        big.turn(id2, "which locker code did I give you for the locker?");
        assertEquals(List.of(1, 2), recalledTurns(big.system()), "both fit: in conversation order, not rank order");
    }

    @Test
    void neverRecallsATurnStillInTheWindow() {
        Stack s = new Stack(config("200"));
        String id = s.turn("new", filler(1));
        for (int n = 2; n <= 12; n++) {
            s.turn(id, "river " + filler(n));
        }
        s.turn(id, "tell me about the river");
        List<ChatMessage> prompt = s.engine.last().messages();
        List<Integer> recalled = recalledTurns(s.system());
        assertFalse(recalled.isEmpty());
        // the window holds the newest turns: every recalled one is older than the oldest of them
        int oldestInWindow = 13 - (prompt.size() - 2) / 2;
        assertTrue(recalled.stream().allMatch(t -> t < oldestInWindow), recalled + " vs window from " + oldestInWindow);
    }

    @Test
    void aRestartBuildsTheSamePromptFromTheLogWhateverTheIndexHolds() throws Exception {
        String id;
        List<List<ChatMessage>> sent = new ArrayList<>();
        Stack s = new Stack(config("60"));
        id = s.turn("new", "please remember my locker code is 4471");
        s.turn(id, "my sister Ingrid lives in Oslo");
        for (int n = 3; n <= 12; n++) {
            s.turn(id, filler(n));
        }
        s.turn(id, "what was my locker code again?");
        s.turn(id, "and where does Ingrid live?");
        s.turn(id, filler(15));
        s.engine.calls.forEach(c -> sent.add(c.messages()));
        assertTrue(recalledTurns(sent.get(12).get(0).content()).contains(1));
        assertTrue(recalledTurns(sent.get(13).get(0).content()).contains(2));
        for (AutoCloseable c : List.copyOf(toClose)) {
            c.close();
        }
        toClose.clear();

        // the index is gone (it would be rebuilt in the background): the logged choice alone rebuilds each prompt
        deleteTree(config("60").indexDir());
        Stack restarted = new Stack(config("60"));
        for (int turn = 1; turn <= 15; turn++) {
            assertEquals(sent.get(turn - 1), restarted.chat.loggedPrompt(id, turn).orElseThrow(), "turn " + turn);
        }
        assertTrue(restarted.chat.loggedPrompt(id, 16).isEmpty());
        assertTrue(restarted.chat.loggedPrompt("nosuch", 1).isEmpty());
    }

    private static void deleteTree(Path root) throws java.io.IOException {
        try (Stream<Path> paths = java.nio.file.Files.walk(root)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                java.nio.file.Files.delete(p);
            }
        }
    }

    @Test
    void recallSizeZeroTurnsItOff() {
        Stack s = new Stack(config("0"));
        String id = s.turn("new", "please remember my locker code is 4471");
        for (int n = 2; n <= 10; n++) {
            s.turn(id, filler(n));
        }
        s.turn(id, "what was my locker code again?");
        assertFalse(s.system().contains(Recall.HEADER));
        assertEquals(List.of(), UserMessage.from(s.events(id, EventType.USER_MESSAGE).get(10).payload())
                .recalledEventIds());
    }
}
