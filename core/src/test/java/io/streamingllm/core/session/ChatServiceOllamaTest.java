package io.streamingllm.core.session;

import io.streamingllm.core.agent.AgentStore;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.ollama.OllamaEngine;
import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventLog;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.summary.SummaryStore;
import io.streamingllm.core.testing.FakeOllama;
import jakarta.json.JsonObject;
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
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sessions over the Ollama engine against a fake Ollama server on loopback. */
class ChatServiceOllamaTest {
    @TempDir
    Path dir;

    private FakeOllama ollama;
    private EventLog log;
    private ChatService chat;

    @BeforeEach
    void start() {
        ollama = FakeOllama.start("llama3.2:latest");
        SidecarConfig cfg = SidecarConfig.fromEnv(Map.of(
                SidecarConfig.MODEL, "llama3.2:latest",
                SidecarConfig.OLLAMA_URL, ollama.baseUri().toString(),
                SidecarConfig.DATA_DIR, dir.resolve("data").toString(),
                SidecarConfig.AGENTS_DIR, dir.resolve("agents").toString(),
                SidecarConfig.RECENT_SIZE, "256",
                SidecarConfig.START_SIZE, "4"));
        log = new EventLog(cfg.logDir());
        chat = new ChatService(cfg, new OllamaEngine(cfg.ollamaUrl(), "llama3.2:latest", Duration.ofSeconds(5)),
                new AgentStore(cfg.agentsDir()), log, new SummaryStore(cfg.summaryDir()));
    }

    @AfterEach
    void stop() {
        chat.close();
        log.close();
        ollama.close();
    }

    private List<Event> events(String id) {
        try (Stream<Event> s = log.read(id)) {
            return s.toList();
        }
    }

    @Test
    void multiTurnSendsTheWindowAndTheSinkBudgetToOllama() throws Exception {
        ollama.reply(FakeOllama.Reply.tokens("Hi", " there", "!").promptEvalCount(40));
        List<String> deltas = new ArrayList<>();
        TurnResult first = chat.startTurn(new TurnRequest("o1", "planner", "hello", null), deltas::add).result().join();
        assertEquals(List.of("Hi", " there", "!"), deltas);
        assertEquals("Hi there!", first.text());
        assertEquals(40, first.promptTokens());
        assertEquals(3, first.completionTokens());

        chat.startTurn(new TurnRequest("o1", "planner", "and again", null), d -> { }).result().join();
        JsonObject body = ollama.exchanges("/api/chat").get(1).json();
        var messages = body.getJsonArray("messages");
        assertEquals("system", messages.getJsonObject(0).getString("role"));
        assertEquals("hello", messages.getJsonObject(1).getString("content"));
        assertEquals("Hi there!", messages.getJsonObject(2).getString("content"));
        assertEquals("and again", messages.getJsonObject(3).getString("content"));
        JsonObject options = body.getJsonObject("options");
        int sinkTokens = chat.conversation("o1").orElseThrow().window().sinkTokens();
        assertTrue(options.getInt("num_keep") >= Math.max(4, sinkTokens), options.toString());
        assertTrue(options.getInt("num_ctx") >= sinkTokens + 256 + 64 + 512, options.toString());
        assertEquals(512, options.getInt("num_predict"));
    }

    @Test
    void failedTurnIsLoggedWithItsErrorAndLeftOutOfLaterPrompts() {
        ollama.reply(FakeOllama.Reply.tokens("partial", " answer", " never", " ends").errorAfter(2, "CUDA out of memory"));
        List<String> deltas = new ArrayList<>();
        Turn t = chat.startTurn(new TurnRequest("o2", "planner", "boom", null), deltas::add);
        CompletionException e = assertThrows(CompletionException.class, () -> t.result().join());
        EngineException ee = assertInstanceOf(EngineException.class, e.getCause());
        assertEquals(EngineException.Kind.UPSTREAM_ERROR, ee.kind());
        assertTrue(ee.getMessage().contains("CUDA out of memory"), ee.getMessage());

        List<Event> events = events("o2");
        assertEquals(List.of(EventType.USER_MESSAGE, EventType.ASSISTANT_MESSAGE, EventType.ERROR),
                events.stream().map(Event::type).toList());
        JsonObject assistant = events.get(1).payload();
        assertEquals(FinishReason.ERROR.wireName(), assistant.getString("finish_reason"));
        assertEquals(String.join("", deltas), assistant.getString("content"));
        assertTrue(assistant.getString("error").contains("CUDA out of memory"));

        ollama.reply(FakeOllama.Reply.tokens("ok"));
        chat.startTurn(new TurnRequest("o2", "planner", "retry", null), d -> { }).result().join();
        var messages = ollama.exchanges("/api/chat").get(1).json().getJsonArray("messages");
        assertEquals(2, messages.size(), "system + the new message only: " + messages);
        assertEquals("retry", messages.getJsonObject(1).getString("content"));
    }

    @Test
    void cancelReachesOllamaAsAClosedConnection() throws Exception {
        ollama.reply(FakeOllama.Reply.tokens("a", "b").stallAfter(1));
        var first = new java.util.concurrent.CountDownLatch(1);
        Turn t = chat.startTurn(new TurnRequest("o3", "planner", "stall please", null), d -> first.countDown());
        assertTrue(first.await(5, java.util.concurrent.TimeUnit.SECONDS));
        long cancelledAt = System.nanoTime();
        t.cancel();
        assertEquals(FinishReason.CANCELLED, t.result().join().finishReason());
        long closedAt = ollama.exchanges("/api/chat").get(0).awaitClientClosed(Duration.ofSeconds(5));
        assertTrue(closedAt - cancelledAt < 100_000_000L, "upstream saw the close after "
                + (closedAt - cancelledAt) / 1_000_000 + " ms");
        assertEquals("cancelled", events("o3").get(1).payload().getString("finish_reason"));
    }

    @Test
    void unreachableOllamaFailsTheTurnWithAdviceAndLogsIt() {
        ollama.close();
        Turn t = chat.startTurn(new TurnRequest("o4", "planner", "anyone?", null), d -> { });
        CompletionException e = assertThrows(CompletionException.class, () -> t.result().join());
        EngineException ee = assertInstanceOf(EngineException.class, e.getCause());
        assertEquals(EngineException.Kind.UNREACHABLE, ee.kind());
        assertTrue(ee.unavailable());
        assertEquals(EventType.ERROR, events("o4").get(2).type());
    }

    @Test
    void shutdownLetsTurnsFinishWithinTheGraceThenCancelsAndLogsTheRest() throws Exception {
        ollama.reply(ex -> {
            var messages = ex.json().getJsonArray("messages");
            String last = messages.getJsonObject(messages.size() - 1).getString("content");
            return last.equals("stall")
                    ? FakeOllama.Reply.tokens("x", "y").stallAfter(1)
                    : FakeOllama.Reply.tokens("a", " b", " c", " d").tokenDelay(Duration.ofMillis(30));
        });
        var started = new java.util.concurrent.CountDownLatch(2);
        Turn quick = chat.startTurn(new TurnRequest("quick", "planner", "finish", null), d -> started.countDown());
        Turn stuck = chat.startTurn(new TurnRequest("stuck", "planner", "stall", null), d -> started.countDown());
        assertTrue(started.await(5, java.util.concurrent.TimeUnit.SECONDS));

        chat.shutdown(Duration.ofMillis(1500));

        assertEquals(FinishReason.STOP, quick.result().join().finishReason(), "finished within the grace");
        assertEquals("a b c d", quick.result().join().text());
        assertEquals(FinishReason.CANCELLED, stuck.result().join().finishReason(), "cancelled after the grace");
        assertEquals("cancelled", events("stuck").get(1).payload().getString("finish_reason"));
        assertEquals("x", events("stuck").get(1).payload().getString("content"));
        ollama.exchanges("/api/chat").stream()
                .filter(ex -> ex.json().toString().contains("\"stall\""))
                .findFirst().orElseThrow()
                .awaitClientClosed(Duration.ofSeconds(5));
        SessionException refused = assertThrows(SessionException.class,
                () -> chat.startTurn(new TurnRequest("late", "planner", "hello", null), d -> { }));
        assertEquals(SessionException.Kind.SHUTTING_DOWN, refused.kind());
    }
}
