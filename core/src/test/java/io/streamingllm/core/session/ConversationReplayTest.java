package io.streamingllm.core.session;

import io.streamingllm.core.agent.AgentStore;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.EngineHealth;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.Generation;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.GenerationResult;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.TokenCounter;
import io.streamingllm.core.engine.TokenListener;
import io.streamingllm.core.engine.echo.EchoEngine;
import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventLog;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.log.Visibility;
import io.streamingllm.core.session.payload.AssistantMessage;
import io.streamingllm.core.session.payload.SummaryRefresh;
import io.streamingllm.core.session.payload.UserMessage;
import io.streamingllm.core.session.payload.WindowState;
import io.streamingllm.core.summary.SummaryStore;
import jakarta.json.Json;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import static io.streamingllm.core.config.SidecarConfig.SummaryMode.EXTRACTIVE;
import static io.streamingllm.core.config.SidecarConfig.SummaryMode.LLM;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The one log replay gives the state the live conversation has, after evictions, failures and restarts. */
class ConversationReplayTest {
    @TempDir
    Path dir;

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    /** Echoes the last user message, except that a message containing FAIL fails after one token. */
    private static final class FailingOnRequest implements ModelEngine {
        private final EchoEngine echo = new EchoEngine(0);

        @Override
        public String engineName() {
            return "echo";
        }

        @Override
        public String model() {
            return "echo";
        }

        @Override
        public Generation generate(List<ChatMessage> messages, GenerationOptions options, TokenListener listener) {
            if (!messages.get(messages.size() - 1).content().contains("FAIL")) {
                return echo.generate(messages, options, listener);
            }
            listener.onToken("partial");
            CompletableFuture<GenerationResult> failed = CompletableFuture.failedFuture(
                    new EngineException(EngineException.Kind.UPSTREAM_ERROR, "upstream broke"));
            return new Generation() {
                @Override
                public CompletableFuture<GenerationResult> result() {
                    return failed;
                }

                @Override
                public void cancel() {
                }
            };
        }

        @Override
        public EngineHealth health() {
            return echo.health();
        }

        @Override
        public Optional<TokenCounter> exactTokenCounter() {
            return echo.exactTokenCounter();
        }
    }

    /** The pieces of a ChatService, wired as it wires them, so the test can hold the live state. */
    private final class Wiring {
        final SidecarConfig config;
        final EventLog log;
        final SummaryStore summaries;
        final ConversationLoader loader;
        final ResidentConversations residency;
        final TurnRunner turns;

        Wiring(SidecarConfig.SummaryMode mode) {
            Map<String, String> env = new HashMap<>();
            env.put(SidecarConfig.MODEL, "echo");
            env.put(SidecarConfig.DATA_DIR, dir.resolve("data").toString());
            env.put(SidecarConfig.AGENTS_DIR, dir.resolve("agents").toString());
            env.put(SidecarConfig.RECENT_SIZE, "40");
            env.put(SidecarConfig.SUMMARY_SIZE, "30");
            env.put(SidecarConfig.SUMMARY_MODE, mode.name().toLowerCase(Locale.ROOT));
            config = SidecarConfig.fromEnv(env);
            ModelEngine engine = new FailingOnRequest();
            log = new EventLog(config.logDir());
            summaries = new SummaryStore(config.summaryDir());
            TokenEstimator tokens = new TokenEstimator(engine.exactTokenCounter().orElse(null));
            RollingSummary summary = new RollingSummary(config, engine, log, summaries, tokens);
            loader = new ConversationLoader(log, summaries, summary);
            residency = new ResidentConversations(loader, 16);
            turns = new TurnRunner(config, engine, log, tokens, new PromptWindow(config, tokens), summary, residency,
                    ConversationIndex.NONE);
            toClose.add(log);
            toClose.add(() -> turns.shutdown(Duration.ZERO));
        }

        /** Runs one turn to its end and returns the live state it left (once any llm rewrite is done). */
        ConversationState turn(String id, String text, GenerationOptions options) {
            ConversationState c = residency.acquire(id, "planner", true);
            Turn t = turns.start(c, "Be brief.", text, null, options, d -> { });
            t.result().handle((r, e) -> null).join();
            c.pendingSummary.join();
            return c;
        }

        void close() {
            turns.shutdown(Duration.ZERO);
            log.close();
        }

        ConversationState replay(String id) {
            ConversationReplay replay = new ConversationReplay(id);
            try (Stream<Event> events = log.read(id)) {
                events.forEachOrdered(replay::apply);
            }
            return replay.state();
        }
    }

    /** Everything the next prompt and the listing depend on, except the summary text (not in the log). */
    private static List<Object> snapshot(ConversationState c) {
        return Arrays.asList(c.id, c.agentId, c.turns, List.copyOf(c.recent), c.recentTokens, c.evictedTurns,
                c.summaryRef, c.summaryTokens, c.lastWindow);
    }

    private static String message(int i) {
        return switch (i % 4) {
            case 0 -> "a longer message number " + i + " with quite a few more words in it. And a second sentence.";
            case 1 -> "short " + i;
            case 2 -> "medium sized message " + i + " about topic " + (i % 5);
            default -> "another one " + i;
        };
    }

    @Test
    void replayingTheLogGivesTheLiveStateAfterEveryTurn() {
        Wiring w = new Wiring(EXTRACTIVE);
        ConversationState live = null;
        for (int i = 0; i < 40; i++) {
            GenerationOptions options = i % 7 == 3 ? new GenerationOptions(null, 2, null, null, null, null) : null;
            live = w.turn("c", i % 11 == 5 ? "please FAIL " + i : message(i), options);
            assertEquals(snapshot(live), snapshot(w.replay("c")), "after turn " + (i + 1));
        }
        assertTrue(live.evictedTurns > 10, "the window evicted: " + live.evictedTurns);
        assertTrue(live.recent.size() > 1, "and still holds turns: " + live.recent);
    }

    @Test
    void loadAfterARestartGivesTheLiveStateAndSummaryAndRebuildsATamperedSummary() throws Exception {
        Wiring before = new Wiring(EXTRACTIVE);
        ConversationState live = null;
        for (int i = 0; i < 30; i++) {
            live = before.turn("c", i == 12 ? "FAIL now" : message(i), null);
        }
        before.close();

        Wiring after = new Wiring(EXTRACTIVE);
        ConversationState loaded = after.loader.load("c");
        assertEquals(snapshot(live), snapshot(loaded));
        assertEquals(live.summary, loaded.summary);

        Path file = after.config.summaryDir().resolve("c.md");
        Files.writeString(file, Files.readString(file).replace("Turn", "Tern"));
        ConversationState rebuilt = after.loader.load("c");
        assertEquals(live.summary, rebuilt.summary, "the extractive summary replays exactly");
        assertEquals(snapshot(live), snapshot(rebuilt));
        assertEquals(live.summaryRef, after.summaries.read("c").orElseThrow().summaryRef(), "and is stored again");

        // turns on the restarted process leave the state a process that never stopped would have
        ConversationState continued = null;
        for (int i = 30; i < 45; i++) {
            continued = after.turn("c", message(i), null);
        }
        assertEquals(snapshot(continued), snapshot(after.replay("c")));
        assertEquals(continued.summary, after.loader.load("c").summary);
    }

    @Test
    void llmRewritesAreReplayedByTheirRef() {
        Wiring w = new Wiring(LLM);
        ConversationState live = null;
        for (int i = 0; i < 20; i++) {
            live = w.turn("c", message(i), null);
            assertEquals(snapshot(live), snapshot(w.replay("c")), "after turn " + (i + 1));
        }
        assertEquals(live.summary, w.summaries.read("c").orElseThrow().content(), "the model's rewrite is the summary");
    }

    // ---------------------------------------------------------------- the reading rules, on hand-made events

    private static final String ID = "c";

    private static Event user(int turn, String text) {
        return new UserMessage(text, "planner", turn, 2).toEvent(ID);
    }

    private static Event reply(int turn, String text, FinishReason reason) {
        return new AssistantMessage(text, "planner", "m", turn, reason, 3, 10, 3, 1, 0, 0, 0,
                new WindowState(4, 0, 5 * turn, 0), null).toEvent(ID);
    }

    private static Event refresh(List<Event> evictedUsers, int evictedTurns, String ref) {
        return new SummaryRefresh(ref, evictedUsers.stream().map(Event::id).toList(), evictedTurns, 7, EXTRACTIVE)
                .toEvent(ID);
    }

    @Test
    void aReplyEntersTheWindowOnlyWhenItCompletesItsOwnTurn() {
        Event u1 = user(1, "one");
        Event u2 = user(2, "two");
        Event u3 = user(3, "three");
        Event u4 = user(4, "four");
        List<Event> log = List.of(u1, reply(1, "r1", FinishReason.STOP), u2, reply(2, "r2", FinishReason.CANCELLED),
                u3, reply(9, "of another turn", FinishReason.STOP), reply(3, "r3", FinishReason.LENGTH), u4);
        ConversationReplay replay = new ConversationReplay(ID);
        log.forEach(replay::apply);
        ConversationState c = replay.state();
        assertEquals(List.of(new RecentTurn(1, u1.id(), "one", "r1", 5), new RecentTurn(3, u3.id(), "three", "r3", 5)),
                List.copyOf(c.recent));
        assertEquals(10, c.recentTokens);
        assertEquals(4, c.turns, "a turn still under way counts");
        assertEquals(new WindowState(4, 0, 15, 0), c.lastWindow, "the window of the newest completed exchange");
        assertEquals("planner", c.agentId);
    }

    @Test
    void aRefreshEvictsTheOldestTurnsItNamesAndHandsThemToTheListener() {
        Event u1 = user(1, "one");
        Event u2 = user(2, "two");
        Event u3 = user(3, "three");
        List<List<RecentTurn>> handed = new ArrayList<>();
        ConversationReplay replay = new ConversationReplay(ID, handed::add);
        List.of(u1, reply(1, "r1", FinishReason.STOP), u2, reply(2, "r2", FinishReason.STOP), u3,
                refresh(List.of(u1, u2), 2, "ref-1"), reply(3, "r3", FinishReason.STOP),
                new SummaryRefresh("ref-2", List.of(), 2, 9, LLM).toEvent(ID)).forEach(replay::apply);
        ConversationState c = replay.state();
        assertEquals(List.of(List.of(new RecentTurn(1, u1.id(), "one", "r1", 5), new RecentTurn(2, u2.id(), "two", "r2", 5)),
                List.of()), handed, "the evicted turns oldest first, then nothing for the llm rewrite");
        assertEquals(List.of(new RecentTurn(3, u3.id(), "three", "r3", 5)), List.copyOf(c.recent));
        assertEquals(2, c.evictedTurns);
        assertEquals("ref-2", c.summaryRef);
        assertEquals(9, c.summaryTokens);
        assertNull(c.summary, "the text is the summary file's, not the log's");
    }

    @Test
    void aTailThatBeginsInsideATurnStillKnowsTheSummaryAndTheWindow() {
        Event u1 = user(1, "one");
        Event u2 = user(2, "two");
        // the tail lost u1 and its reply: it begins with the refresh logged with u2
        ConversationReplay tail = new ConversationReplay(ID);
        List.of(refresh(List.of(u1), 1, "ref-1"), u2, reply(2, "r2", FinishReason.STOP)).forEach(tail::apply);
        ConversationState c = tail.state();
        assertEquals("ref-1", c.summaryRef);
        assertEquals(1, c.evictedTurns);
        assertEquals(2, c.turns);
        assertTrue(tail.replyWindowKnown());
        assertEquals(new WindowState(4, 0, 10, 0), c.lastWindow);

        ConversationReplay noReply = new ConversationReplay(ID);
        List.of(reply(1, "r1", FinishReason.STOP), u2).forEach(noReply::apply);
        assertFalse(noReply.replyWindowKnown(), "a reply whose user message is cut off says nothing");
        assertNull(new ConversationReplay(ID).state(), "no user message, no conversation");
    }

    @Test
    void aTurnNumberMissingFromAnOldLogCountsTheUserMessages() {
        ConversationReplay replay = new ConversationReplay(ID);
        Event legacy = Event.create(ID, EventType.USER_MESSAGE, Visibility.USER,
                Json.createObjectBuilder().add("content", "hi").build());
        replay.apply(legacy);
        replay.apply(legacy);
        assertEquals(2, replay.state().turns);
        assertEquals(ChatService.RELAY_AGENT, replay.state().agentId, "no agent recorded: a relayed conversation");
    }
}
