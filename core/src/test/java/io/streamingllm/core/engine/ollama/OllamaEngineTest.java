package io.streamingllm.core.engine.ollama;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.EngineHealth;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.Generation;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.GenerationResult;
import io.streamingllm.core.testing.FakeOllama.Exchange;
import io.streamingllm.core.testing.FakeOllama.Reply;
import io.streamingllm.core.testing.FakeOllama;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OllamaEngineTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final long PROMPT_CANCEL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final List<ChatMessage> HELLO = List.of(ChatMessage.system("Be brief."), ChatMessage.user("Say hello"));

    private FakeOllama ollama;
    private OllamaEngine engine;

    @BeforeEach
    void start() {
        ollama = FakeOllama.start("llama3.2:latest");
        engine = new OllamaEngine(ollama.baseUri(), "llama3.2:latest", Duration.ofSeconds(10));
    }

    @AfterEach
    void stop() {
        engine.close();
        ollama.close();
    }

    private static GenerationResult await(Generation g) throws Exception {
        return g.result().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    private static EngineException failure(Generation g) throws Exception {
        ExecutionException e = assertThrows(ExecutionException.class, () -> g.result().get(WAIT.toSeconds(), TimeUnit.SECONDS));
        return assertInstanceOf(EngineException.class, e.getCause());
    }

    @Test
    void deltasReachTheSinkInOrderAsTheyAreSent() throws Exception {
        List<String> tokens = List.of("Hel", "lo", ",", " wor", "ld", " <b>&</b>");
        List<CountDownLatch> seen = tokens.stream().map(t -> new CountDownLatch(1)).toList();
        // the fake writes token i only once the listener has received token i-1
        ollama.reply(Reply.tokens(tokens).gate(i -> {
            if (i > 0 && !seen.get(i - 1).await(5, TimeUnit.SECONDS)) {
                throw new InterruptedException("listener never saw token " + (i - 1));
            }
        }));
        List<String> received = new CopyOnWriteArrayList<>();
        Generation g = engine.generate(HELLO, GenerationOptions.DEFAULTS, delta -> {
            received.add(delta);
            seen.get(received.size() - 1).countDown();
        });
        GenerationResult r = await(g);
        assertEquals(tokens, received);
        assertEquals(String.join("", tokens), r.text());
        assertEquals(FinishReason.STOP, r.finishReason());
    }

    @Test
    void finishedGenerationsLeaveNoTimerBehind() throws Exception {
        // each generation arms an idle timer (STREAMING_LLM_TOKEN_TIMEOUT_S); one left queued after the turn keeps
        // the whole exchange reachable until it fires: minutes of finished turns held in memory under load
        ollama.reply(Reply.tokens(List.of("a", "b", "c")));
        for (int i = 0; i < 20; i++) {
            assertEquals("abc", await(engine.generate(HELLO, GenerationOptions.DEFAULTS, delta -> { })).text());
        }
        CountDownLatch first = new CountDownLatch(1);
        ollama.reply(Reply.tokens(List.of("x", "y")).tokenDelay(Duration.ofSeconds(5)));
        Generation cancelled = engine.generate(HELLO, GenerationOptions.DEFAULTS, delta -> first.countDown());
        cancelled.cancel();
        assertEquals(FinishReason.CANCELLED, await(cancelled).finishReason());
        assertEquals(0, engine.pendingTimers(), "timers still queued after every generation settled");
    }

    @Test
    void requestCarriesModelMessagesStreamAndMappedOptions() throws Exception {
        GenerationOptions options = new GenerationOptions(0.2, 7, 42L, List.of("\n\n", "User:"), 4096, 24);
        await(engine.generate(HELLO, options, d -> { }));
        JsonObject req = ollama.awaitExchange("/api/chat", 0, WAIT).json();
        assertEquals("llama3.2:latest", req.getString("model"));
        assertTrue(req.getBoolean("stream"));
        assertEquals(Json.createArrayBuilder()
                .add(Json.createObjectBuilder().add("role", "system").add("content", "Be brief."))
                .add(Json.createObjectBuilder().add("role", "user").add("content", "Say hello"))
                .build(), req.getJsonArray("messages"));
        JsonObject o = req.getJsonObject("options");
        assertEquals(7, o.getInt("num_predict"));
        assertEquals(0.2, o.getJsonNumber("temperature").doubleValue());
        assertEquals(42L, o.getJsonNumber("seed").longValue());
        assertEquals(List.of("\n\n", "User:"), o.getJsonArray("stop").getValuesAs(jakarta.json.JsonString::getString));
        assertEquals(4096, o.getInt("num_ctx"));
        assertEquals(24, o.getInt("num_keep"));
        assertEquals(6, o.size(), "only the mapped options: " + o);
    }

    @Test
    void unsetOptionsAreLeftToOllama() throws Exception {
        await(engine.generate(HELLO, new GenerationOptions(null, 5, null, null, null, null), d -> { }));
        await(engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> { }));
        assertEquals(Json.createObjectBuilder().add("num_predict", 5).build(),
                ollama.awaitExchange("/api/chat", 0, WAIT).json().getJsonObject("options"));
        assertNull(ollama.awaitExchange("/api/chat", 1, WAIT).json().get("options"));
    }

    @Test
    void finalRecordStatsAreMapped() throws Exception {
        ollama.reply(Reply.tokens("Hi", " there").promptEvalCount(26).durations(4_883_583_458L, 1_334_875L, 342_546_000L, 4_535_599_000L));
        GenerationResult r = await(engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> { }));
        assertEquals("Hi there", r.text());
        assertEquals(FinishReason.STOP, r.finishReason());
        assertEquals(26, r.promptTokens());
        assertTrue(r.promptTokensExact());
        assertEquals(2, r.completionTokens());
        assertEquals(4_883_583_458L, r.totalNanos());
        assertEquals(1_334_875L, r.loadNanos());
        assertEquals(342_546_000L, r.promptEvalNanos());
        assertEquals(4_535_599_000L, r.evalNanos());
    }

    @Test
    void numPredictCutIsFinishReasonLength() throws Exception {
        ollama.reply(Reply.tokens("one", " two", " three", " four"));
        GenerationResult r = await(engine.generate(HELLO, GenerationOptions.DEFAULTS.withMaxNewTokens(2), d -> { }));
        assertEquals(FinishReason.LENGTH, r.finishReason());
        assertEquals("one two", r.text());
        assertEquals(2, r.completionTokens());
    }

    @Test
    void unknownDoneReasonCountsAsStop() throws Exception {
        ollama.reply(Reply.tokens("ok").doneReason("something_new"));
        assertEquals(FinishReason.STOP, await(engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> { })).finishReason());
    }

    @Test
    void connectionRefusedIsUnreachableNamingTheUrl() throws Exception {
        URI dead = deadPort();
        try (OllamaEngine down = new OllamaEngine(dead, "llama3.2:latest", Duration.ofSeconds(10))) {
            EngineException e = failure(down.generate(HELLO, GenerationOptions.DEFAULTS, d -> { }));
            assertEquals(EngineException.Kind.UNREACHABLE, e.kind());
            assertTrue(e.getMessage().contains(dead.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("start Ollama"), e.getMessage());
            assertTrue(e.unavailable());
        }
    }

    @Test
    void unknownHostIsUnreachable() throws Exception {
        try (OllamaEngine nowhere = new OllamaEngine(URI.create("http://no-such-host.invalid:11434"), "llama3.2", Duration.ofSeconds(10))) {
            EngineException e = failure(nowhere.generate(HELLO, GenerationOptions.DEFAULTS, d -> { }));
            assertEquals(EngineException.Kind.UNREACHABLE, e.kind());
            assertTrue(e.getMessage().contains("no-such-host.invalid"), e.getMessage());
        }
    }

    @Test
    void modelNotPulledSaysOllamaPull() throws Exception {
        ollama.models("qwen2.5:0.5b");
        EngineException e = failure(engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> { }));
        assertEquals(EngineException.Kind.MODEL_NOT_FOUND, e.kind());
        assertTrue(e.getMessage().contains("ollama pull llama3.2:latest"), e.getMessage());
        assertTrue(e.getMessage().contains("not found, try pulling it first"), "keeps Ollama's words: " + e.getMessage());
    }

    @Test
    void httpErrorIsUpstreamErrorWithOllamasMessage() throws Exception {
        ollama.reply(Reply.echo().httpError(500, "llama runner process has terminated: signal: killed"));
        EngineException e = failure(engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> { }));
        assertEquals(EngineException.Kind.UPSTREAM_ERROR, e.kind());
        assertTrue(e.getMessage().contains("HTTP 500"), e.getMessage());
        assertTrue(e.getMessage().contains("llama runner process has terminated"), e.getMessage());
        assertFalse(e.unavailable());
    }

    @Test
    void errorRecordMidStreamIsUpstreamErrorAfterTheTokensBeforeIt() throws Exception {
        ollama.reply(Reply.tokens("a", " b", " c").errorAfter(2, "an error was encountered while running the model"));
        List<String> got = new CopyOnWriteArrayList<>();
        EngineException e = failure(engine.generate(HELLO, GenerationOptions.DEFAULTS, got::add));
        assertEquals(EngineException.Kind.UPSTREAM_ERROR, e.kind());
        assertTrue(e.getMessage().contains("an error was encountered while running the model"), e.getMessage());
        assertEquals(List.of("a", " b"), got);
    }

    @Test
    void connectionDroppedBeforeTheFinalRecordIsDropped() throws Exception {
        ollama.reply(Reply.tokens("a", " b", " c").dropAfter(2));
        EngineException e = failure(engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> { }));
        assertEquals(EngineException.Kind.DROPPED, e.kind());
        assertTrue(e.getMessage().contains("after 2 tokens"), e.getMessage());
    }

    @Test
    void lineThatIsNotJsonIsProtocol() throws Exception {
        ollama.reply(Reply.tokens("a", " b").malformedAfter(1));
        EngineException e = failure(engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> { }));
        assertEquals(EngineException.Kind.PROTOCOL, e.kind());
        assertTrue(e.getMessage().contains("502 Bad Gateway"), "shows the line: " + e.getMessage());
    }

    @Test
    void silenceAfterATokenTimesOutAndAbortsTheRequest() throws Exception {
        try (OllamaEngine impatient = new OllamaEngine(ollama.baseUri(), "llama3.2", Duration.ofMillis(1000))) {
            warmUp(impatient);
            ollama.reply(Reply.tokens("a", " b").stallAfter(1));
            long started = System.nanoTime();
            EngineException e = failure(impatient.generate(HELLO, GenerationOptions.DEFAULTS, d -> { }));
            assertEquals(EngineException.Kind.TIMEOUT, e.kind());
            assertTrue(e.getMessage().contains("1000 ms"), e.getMessage());
            assertTrue(System.nanoTime() - started >= TimeUnit.MILLISECONDS.toNanos(1000), "not before the idle time");
            ollama.awaitExchange("/api/chat", 1, WAIT).awaitClientClosed(WAIT);
        }
    }

    @Test
    void noHeadersWithinTheIdleTimeIsTimeout() throws Exception {
        try (OllamaEngine impatient = new OllamaEngine(ollama.baseUri(), "llama3.2", Duration.ofMillis(1000))) {
            warmUp(impatient);
            ollama.reply(Reply.echo().stallBeforeHeaders());
            EngineException e = failure(impatient.generate(HELLO, GenerationOptions.DEFAULTS, d -> { }));
            assertEquals(EngineException.Kind.TIMEOUT, e.kind());
            assertTrue(e.getMessage().contains("no token yet"), e.getMessage());
            ollama.awaitExchange("/api/chat", 1, WAIT).awaitClientClosed(WAIT);
        }
    }

    @Test
    void slowHeadersWithinTheIdleTimeAreFine() throws Exception {
        ollama.reply(Reply.tokens("late").headerDelay(Duration.ofMillis(200)));
        try (OllamaEngine patient = new OllamaEngine(ollama.baseUri(), "llama3.2", Duration.ofSeconds(5))) {
            assertEquals("late", await(patient.generate(HELLO, GenerationOptions.DEFAULTS, d -> { })).text());
        }
    }

    @Test
    void cancelMidStreamClosesTheUpstreamConnectionPromptly() throws Exception {
        ollama.reply(Reply.tokens("a", " b", " c", " d").stallAfter(2));
        CountDownLatch twoTokens = new CountDownLatch(2);
        Generation g = engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> twoTokens.countDown());
        assertTrue(twoTokens.await(WAIT.toSeconds(), TimeUnit.SECONDS));
        Exchange chat = ollama.awaitExchange("/api/chat", 0, WAIT);
        long cancelledAt = System.nanoTime();
        g.cancel();
        long closedAt = chat.awaitClientClosed(WAIT);
        assertTrue(closedAt - cancelledAt < PROMPT_CANCEL_NANOS,
                "upstream saw the close " + TimeUnit.NANOSECONDS.toMillis(closedAt - cancelledAt) + " ms after cancel");
        GenerationResult r = await(g);
        assertEquals(FinishReason.CANCELLED, r.finishReason());
        assertEquals("a b", r.text());
        assertEquals(2, r.completionTokens());
    }

    @Test
    void cancelWhileTokensFlowStopsTheStream() throws Exception {
        ollama.reply(Reply.tokens(java.util.Collections.nCopies(10_000, " w")).tokenDelay(Duration.ofMillis(1)));
        CountDownLatch some = new CountDownLatch(3);
        Generation g = engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> some.countDown());
        assertTrue(some.await(WAIT.toSeconds(), TimeUnit.SECONDS));
        Exchange chat = ollama.awaitExchange("/api/chat", 0, WAIT);
        long cancelledAt = System.nanoTime();
        g.cancel();
        long closedAt = chat.awaitClientClosed(WAIT);
        assertTrue(closedAt - cancelledAt < PROMPT_CANCEL_NANOS,
                "upstream saw the close " + TimeUnit.NANOSECONDS.toMillis(closedAt - cancelledAt) + " ms after cancel");
        GenerationResult r = await(g);
        assertEquals(FinishReason.CANCELLED, r.finishReason());
        assertTrue(chat.tokensSent() < 10_000, "the fake stopped generating");
        assertTrue(r.text().length() >= 3 * 2 && r.text().length() % 2 == 0, "whole deltas only: " + r.text().length());
    }

    @Test
    void cancelFromInsideTheSinkSettlesAfterTheSinkReturnedAndDeliversNothingMore() throws Exception {
        ollama.reply(Reply.tokens(java.util.Collections.nCopies(1_000, " w")).tokenDelay(Duration.ofMillis(1)));
        java.util.concurrent.atomic.AtomicReference<Generation> self = new java.util.concurrent.atomic.AtomicReference<>();
        CountDownLatch started = new CountDownLatch(1);
        List<String> settledInsideTheListener = new CopyOnWriteArrayList<>();
        List<String> got = new CopyOnWriteArrayList<>();
        Generation g = engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> {
            try {
                assertTrue(started.await(WAIT.toSeconds(), TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            got.add(d);
            self.get().cancel();
            if (self.get().result().isDone()) {
                settledInsideTheListener.add(d);
            }
        });
        self.set(g);
        started.countDown();
        GenerationResult r = await(g);
        assertEquals(FinishReason.CANCELLED, r.finishReason());
        assertEquals(List.of(), settledInsideTheListener, "the result completes only after the listener returned");
        assertEquals(List.of(" w"), got, "no delta after the cancel");
        assertEquals(" w", r.text());
        ollama.awaitExchange("/api/chat", 0, WAIT).awaitClientClosed(WAIT);
    }

    @Test
    void cancelBeforeTheHeadersClosesTheUpstreamConnectionPromptly() throws Exception {
        ollama.reply(Reply.echo().stallBeforeHeaders());
        Generation g = engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> { });
        Exchange chat = ollama.awaitExchange("/api/chat", 0, WAIT);
        long cancelledAt = System.nanoTime();
        g.cancel();
        long closedAt = chat.awaitClientClosed(WAIT);
        assertTrue(closedAt - cancelledAt < PROMPT_CANCEL_NANOS,
                "upstream saw the close " + TimeUnit.NANOSECONDS.toMillis(closedAt - cancelledAt) + " ms after cancel");
        GenerationResult r = await(g);
        assertEquals(FinishReason.CANCELLED, r.finishReason());
        assertEquals("", r.text());
    }

    @Test
    void cancelAfterTheHeadersBeforeTheFirstTokenClosesPromptly() throws Exception {
        ollama.reply(Reply.echo().stallAfter(0));
        Generation g = engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> { });
        Exchange chat = ollama.awaitExchange("/api/chat", 0, WAIT);
        chat.headersSent().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        long cancelledAt = System.nanoTime();
        g.cancel();
        long closedAt = chat.awaitClientClosed(WAIT);
        assertTrue(closedAt - cancelledAt < PROMPT_CANCEL_NANOS,
                "upstream saw the close " + TimeUnit.NANOSECONDS.toMillis(closedAt - cancelledAt) + " ms after cancel");
        assertEquals(FinishReason.CANCELLED, await(g).finishReason());
    }

    @Test
    void cancelAfterCompletionChangesNothing() throws Exception {
        Generation g = engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> { });
        GenerationResult r = await(g);
        g.cancel();
        assertEquals(FinishReason.STOP, g.result().get().finishReason());
        assertEquals("Say hello", r.text());
    }

    @Test
    void connectionsAreReusedAcrossGenerations() throws Exception {
        for (int i = 0; i < 5; i++) {
            assertEquals("Say hello", await(engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> { })).text());
        }
        assertEquals(1, ollama.openConnections(), "one pooled keep-alive connection");
    }

    @Test
    void manyConcurrentGenerationsEachGetTheirOwnAnswer() throws Exception {
        int n = 200;
        List<Generation> gens = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            gens.add(engine.generate(List.of(ChatMessage.user("request number " + i)), GenerationOptions.DEFAULTS, d -> { }));
        }
        for (int i = 0; i < n; i++) {
            assertEquals("request number " + i, await(gens.get(i)).text());
        }
        assertEquals(n, ollama.exchanges("/api/chat").size());
    }

    @Test
    void healthIsReadyWhenTheModelIsListedWithOrWithoutTheLatestTag() {
        assertTrue(engine.health().ready(), engine.health().message());
        try (OllamaEngine untagged = new OllamaEngine(ollama.baseUri(), "llama3.2", Duration.ofSeconds(5))) {
            assertTrue(untagged.health().ready());
        }
        ollama.models("llama3.2");
        assertTrue(engine.health().ready(), "listed without a tag means :latest");
    }

    @Test
    void healthSaysPullWhenTheModelIsMissing() {
        ollama.models("qwen2.5:0.5b", "llama3.2:1b");
        EngineHealth h = engine.health();
        assertEquals(EngineHealth.Status.MODEL_MISSING, h.status());
        assertTrue(h.message().contains("ollama pull llama3.2:latest"), h.message());
    }

    @Test
    void healthSaysStartOllamaWhenNothingListens() throws IOException {
        URI dead = deadPort();
        try (OllamaEngine down = new OllamaEngine(dead, "llama3.2:latest", Duration.ofSeconds(5))) {
            EngineHealth h = down.health();
            assertEquals(EngineHealth.Status.UNREACHABLE, h.status());
            assertTrue(h.message().contains("start Ollama at " + dead), h.message());
        }
    }

    @Test
    void forwardRelaysOllamasAnswersAsIs() throws Exception {
        UpstreamResponse tags = engine.forward("GET", "/api/tags", null);
        assertEquals(200, tags.status());
        assertTrue(tags.contentType().startsWith("application/json"));
        JsonObject body = Json.createReader(new ByteArrayInputStream(tags.body())).readObject();
        assertEquals("llama3.2:latest", body.getJsonArray("models").getJsonObject(0).getString("name"));

        UpstreamResponse show = engine.forward("POST", "/api/show", "{\"model\":\"nope\"}".getBytes(StandardCharsets.UTF_8));
        assertEquals(404, show.status());
        assertEquals("{\"error\":\"model 'nope' not found\"}", new String(show.body(), StandardCharsets.UTF_8));
        assertEquals("{\"model\":\"nope\"}", new String(ollama.awaitExchange("/api/show", 0, WAIT).body(), StandardCharsets.UTF_8));

        UpstreamResponse version = engine.forward("GET", "/api/version", null);
        assertEquals("{\"version\":\"" + FakeOllama.DEFAULT_VERSION + "\"}", new String(version.body(), StandardCharsets.UTF_8));
    }

    @Test
    void forwardToADeadOllamaIsUnreachable() throws IOException {
        try (OllamaEngine down = new OllamaEngine(deadPort(), "llama3.2:latest", Duration.ofSeconds(5))) {
            EngineException e = assertThrows(EngineException.class, () -> down.forward("GET", "/api/tags", null));
            assertEquals(EngineException.Kind.UNREACHABLE, e.kind());
        }
    }

    @Test
    void badConstructionIsRefusedWithAReason() {
        assertThrows(IllegalArgumentException.class, () -> new OllamaEngine(URI.create("ftp://x"), "m", Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> new OllamaEngine(ollama.baseUri(), " ", Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class, () -> new OllamaEngine(ollama.baseUri(), "m", Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> engine.forward("GET", "/../etc/passwd", null));
    }

    /**
     * One ordinary call first, so the short idle timeout under test measures Ollama's silence, not the
     * client's first connection and class loading on a loaded machine.
     */
    private static void warmUp(OllamaEngine engine) throws Exception {
        assertEquals(FinishReason.STOP, await(engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> { })).finishReason());
    }

    /** A loopback URL where nothing listens: bind a port, then free it. */
    private static URI deadPort() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        return URI.create("http://127.0.0.1:" + port);
    }
}
