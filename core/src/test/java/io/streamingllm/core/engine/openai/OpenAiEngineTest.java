package io.streamingllm.core.engine.openai;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.Embeddings;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.EngineException.Kind;
import io.streamingllm.core.engine.EngineHealth;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.Generation;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.GenerationResult;
import io.streamingllm.core.engine.ModelInfo;
import io.streamingllm.core.engine.ResponseFormat;
import io.streamingllm.core.testing.FakeOpenAi;
import io.streamingllm.core.testing.FakeOpenAi.Exchange;
import io.streamingllm.core.testing.FakeOpenAi.Reply;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OpenAiEngineTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final long PROMPT_CANCEL_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final String KEY = "sk-test-0123456789abcdef";
    private static final String MODEL = "Qwen/Qwen2.5-0.5B-Instruct";
    private static final List<ChatMessage> HELLO = List.of(ChatMessage.system("Be brief."), ChatMessage.user("Say hello"),
            ChatMessage.assistant("Hello."), ChatMessage.user("Again"));

    private FakeOpenAi openai;
    private OpenAiEngine engine;

    @BeforeEach
    void start() {
        openai = FakeOpenAi.start(MODEL, "text-embed").apiKey(KEY);
        engine = new OpenAiEngine(openai.baseUri(), MODEL, KEY, WAIT);
    }

    @AfterEach
    void stop() {
        engine.close();
        openai.close();
    }

    private static GenerationResult await(Generation g) throws Exception {
        return g.result().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    private static EngineException failure(Generation g) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> g.result().get(WAIT.toSeconds(), TimeUnit.SECONDS));
        return assertInstanceOf(EngineException.class, e.getCause());
    }

    private EngineException failureOf(Reply reply) {
        openai.reply(reply);
        return failure(engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> { }));
    }

    private static void assertNoKey(String text) {
        assertFalse(text.contains(KEY), "the API key leaked: " + text);
        assertFalse(text.contains(KEY.substring(3, 15)), "part of the API key leaked: " + text);
    }

    @Test
    void deltasStreamInOrderAndUsageGivesTheTokenCounts() throws Exception {
        List<String> tokens = List.of("Hel", "lo", ",", " wor", "ld", " \"<b>&</b>\"\n");
        List<CountDownLatch> seen = tokens.stream().map(t -> new CountDownLatch(1)).toList();
        // the fake writes token i only once the listener has received token i-1: deltas are relayed as they arrive
        openai.reply(Reply.tokens(tokens).promptTokens(37).gate(i -> {
            if (i > 0 && !seen.get(i - 1).await(5, TimeUnit.SECONDS)) {
                throw new InterruptedException("listener never saw token " + (i - 1));
            }
        }));
        List<String> received = new CopyOnWriteArrayList<>();
        GenerationResult r = await(engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> {
            seen.get(received.size()).countDown();
            received.add(d);
        }));
        assertEquals(tokens, received);
        assertEquals(String.join("", tokens), r.text());
        assertEquals(FinishReason.STOP, r.finishReason());
        assertEquals(37, r.promptTokens(), "usage.prompt_tokens");
        assertEquals(6, r.completionTokens(), "usage.completion_tokens");
        assertTrue(r.promptTokensExact());
        assertTrue(r.totalNanos() > 0 && r.promptEvalNanos() + r.evalNanos() == r.totalNanos());
    }

    @Test
    void theRequestCarriesTheWindowInOrderTheKeyAndAStreamWithUsage() throws Exception {
        await(engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> { }));
        Exchange chat = openai.awaitExchange(FakeOpenAi.CHAT, 0, WAIT);
        assertEquals("Bearer " + KEY, chat.header("Authorization"));
        JsonObject body = chat.json();
        assertEquals(MODEL, body.getString("model"));
        assertTrue(body.getBoolean("stream"));
        assertTrue(body.getJsonObject("stream_options").getBoolean("include_usage"));
        JsonArray messages = body.getJsonArray("messages");
        assertEquals(HELLO.size(), messages.size());
        for (int i = 0; i < HELLO.size(); i++) {
            assertEquals(HELLO.get(i).role().wireName(), messages.getJsonObject(i).getString("role"));
            assertEquals(HELLO.get(i).content(), messages.getJsonObject(i).getString("content"));
        }
        assertEquals("system", messages.getJsonObject(0).getString("role"), "the sink first: the prefix cache hits");
        for (String absent : List.of("max_tokens", "temperature", "top_p", "seed", "stop", "response_format")) {
            assertFalse(body.containsKey(absent), absent + " is the server's default unless set");
        }
    }

    @Test
    void optionsMapToOpenAiFields() throws Exception {
        GenerationOptions o = new GenerationOptions(0.25, 7, 42L, List.of("END", "\n\n"), 4096, 16)
                .withTopP(0.9).withFormat(ResponseFormat.JSON);
        await(engine.generate(HELLO, o, d -> { }));
        JsonObject body = openai.awaitExchange(FakeOpenAi.CHAT, 0, WAIT).json();
        assertEquals(0.25, body.getJsonNumber("temperature").doubleValue());
        assertEquals(0.9, body.getJsonNumber("top_p").doubleValue());
        assertEquals(7, body.getInt("max_tokens"));
        assertEquals(42L, body.getJsonNumber("seed").longValue());
        assertEquals(List.of("END", "\n\n"), body.getJsonArray("stop").getValuesAs(JsonString::getString));
        assertEquals("json_object", body.getJsonObject("response_format").getString("type"));
        assertFalse(body.containsKey("num_ctx") || body.containsKey("options"), "Ollama's context options have no OpenAI field");

        JsonObject schema = Json.createObjectBuilder().add("type", "object")
                .add("required", Json.createArrayBuilder().add("answer")).build();
        await(engine.generate(HELLO, GenerationOptions.DEFAULTS.withFormat(ResponseFormat.schema(schema)), d -> { }));
        JsonObject format = openai.awaitExchange(FakeOpenAi.CHAT, 1, WAIT).json().getJsonObject("response_format");
        assertEquals("json_schema", format.getString("type"));
        assertEquals(schema, format.getJsonObject("json_schema").getJsonObject("schema"));
        assertFalse(format.getJsonObject("json_schema").getString("name").isBlank(), "OpenAI requires a name");
    }

    @Test
    void aRequestNamingAModelReachesThatModel() throws Exception {
        openai.models(MODEL, "other-model");
        await(engine.generate(HELLO, GenerationOptions.DEFAULTS.withModel("other-model"), d -> { }));
        assertEquals("other-model", openai.awaitExchange(FakeOpenAi.CHAT, 0, WAIT).json().getString("model"));
    }

    @Test
    void maxTokensCutsTheAnswerWithFinishReasonLength() throws Exception {
        openai.reply(Reply.tokens("a", " b", " c", " d"));
        GenerationResult r = await(engine.generate(HELLO, GenerationOptions.DEFAULTS.withMaxNewTokens(2), d -> { }));
        assertEquals(FinishReason.LENGTH, r.finishReason());
        assertEquals("a b", r.text());
    }

    @Test
    void withoutUsageTheDeltasAreCounted() throws Exception {
        openai.reply(Reply.tokens("one", " two", " three").withoutUsage());
        GenerationResult r = await(engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> { }));
        assertEquals("one two three", r.text());
        assertEquals(3, r.completionTokens());
        assertEquals(-1, r.promptTokens());
        assertFalse(r.promptTokensExact());
    }

    @Test
    void aStreamThatEndsWithoutDoneAfterFinishingIsWhole() throws Exception {
        openai.reply(Reply.tokens("x", "y").withoutDone());
        GenerationResult r = await(engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> { }));
        assertEquals("xy", r.text());
        assertEquals(FinishReason.STOP, r.finishReason());
    }

    @Test
    void aBrokenTailAfterTheFinishChunkKeepsTheWholeAnswer() throws Exception {
        openai.reply(Reply.tokens("all", " there").garbageAfterFinish());
        GenerationResult r = await(engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> { }));
        assertEquals("all there", r.text());
        assertEquals(FinishReason.STOP, r.finishReason());
    }

    @Test
    void anUnreachableServerIsNamed() throws Exception {
        URI closed;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closed = URI.create("http://127.0.0.1:" + s.getLocalPort() + "/v1");
        }
        try (OpenAiEngine nowhere = new OpenAiEngine(closed, MODEL, KEY, WAIT)) {
            EngineException e = failure(nowhere.generate(HELLO, GenerationOptions.DEFAULTS, d -> { }));
            assertEquals(Kind.UNREACHABLE, e.kind());
            assertTrue(e.getMessage().contains(closed.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("STREAMING_LLM_OPENAI_URL"), e.getMessage());
            EngineHealth h = nowhere.health();
            assertEquals(EngineHealth.Status.UNREACHABLE, h.status());
            assertTrue(h.message().contains(closed.toString()), h.message());
            assertEquals(Kind.UNREACHABLE, assertThrows(EngineException.class, nowhere::models).kind());
        }
    }

    @Test
    void aRefusedKeyIsAuthAndTheKeyIsInNoMessage() {
        String wrong = KEY + "-revoked";
        try (OpenAiEngine bad = new OpenAiEngine(openai.baseUri(), MODEL, wrong, WAIT)) {
            EngineException e = failure(bad.generate(HELLO, GenerationOptions.DEFAULTS, d -> { }));
            assertEquals(Kind.AUTH, e.kind());
            assertTrue(e.unavailable());
            assertTrue(e.getMessage().contains("refused the API key"), e.getMessage());
            assertTrue(e.getMessage().contains("STREAMING_LLM_OPENAI_API_KEY"), e.getMessage());
            assertNoKey(e.getMessage());
            assertFalse(e.getMessage().contains(wrong), "the fake quoted the key it refused; it must be cut out: " + e.getMessage());

            EngineHealth h = bad.health();
            assertEquals(EngineHealth.Status.ERROR, h.status());
            assertTrue(h.message().contains("refused the API key"), h.message());
            assertFalse(h.message().contains(wrong), h.message());
            EngineException listing = assertThrows(EngineException.class, bad::models);
            assertEquals(Kind.AUTH, listing.kind());
            assertFalse(listing.getMessage().contains(wrong), listing.getMessage());
            assertFalse(bad.toString().contains(wrong), bad.toString());
        }
        try (OpenAiEngine none = new OpenAiEngine(openai.baseUri(), MODEL, null, WAIT)) {
            assertEquals(Kind.AUTH, failure(none.generate(HELLO, GenerationOptions.DEFAULTS, d -> { })).kind());
            assertNull(openai.exchanges(FakeOpenAi.CHAT).getLast().header("Authorization"), "no key, no header");
        }
    }

    @Test
    void anUnknownModelIsModelNotFound() {
        EngineException e = failure(engine.generate(HELLO, GenerationOptions.DEFAULTS.withModel("no-such-model"), d -> { }));
        assertEquals(Kind.MODEL_NOT_FOUND, e.kind());
        assertTrue(e.getMessage().contains("no-such-model"), e.getMessage());
    }

    @Test
    void aBaseUrlWithoutV1SaysSo() {
        URI root = URI.create("http://127.0.0.1:" + openai.port());
        try (OpenAiEngine wrong = new OpenAiEngine(root, MODEL, KEY, WAIT)) {
            EngineException e = failure(wrong.generate(HELLO, GenerationOptions.DEFAULTS, d -> { }));
            assertEquals(Kind.UPSTREAM_ERROR, e.kind());
            assertTrue(e.getMessage().contains("/v1"), e.getMessage());
            assertEquals(EngineHealth.Status.ERROR, wrong.health().status());
        }
    }

    @Test
    void aShortRetryAfterIsWaitedOutOnceBeforeTheFirstToken() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        openai.reply(ex -> calls.getAndIncrement() == 0 ? Reply.rateLimited(1) : Reply.tokens("after", " the", " wait"));
        GenerationResult r = await(engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> { }));
        assertEquals("after the wait", r.text());
        List<Exchange> chats = openai.exchanges(FakeOpenAi.CHAT);
        assertEquals(2, chats.size());
        long waited = chats.get(1).receivedNanos() - chats.get(0).receivedNanos();
        assertTrue(waited >= TimeUnit.MILLISECONDS.toNanos(950), "retried after " + TimeUnit.NANOSECONDS.toMillis(waited) + " ms");
        assertEquals(chats.get(0).json(), chats.get(1).json(), "the same request again");
    }

    @Test
    void aSecond429IsRateLimitedWithItsRetryAfter() {
        openai.reply(Reply.rateLimited(0));
        EngineException e = failure(engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> { }));
        assertEquals(Kind.RATE_LIMITED, e.kind());
        assertEquals(Duration.ZERO, e.retryAfter().orElseThrow());
        assertEquals(2, openai.exchanges(FakeOpenAi.CHAT).size(), "one retry, not more");
    }

    @Test
    void aLongRetryAfterOrNoneIsNotWaitedFor() {
        EngineException e = failureOf(Reply.rateLimited(30));
        assertEquals(Kind.RATE_LIMITED, e.kind());
        assertEquals(Duration.ofSeconds(30), e.retryAfter().orElseThrow());
        assertTrue(e.getMessage().contains("30 s"), e.getMessage());
        assertEquals(1, openai.exchanges(FakeOpenAi.CHAT).size());

        EngineException unsaid = failureOf(Reply.rateLimited(null));
        assertEquals(Kind.RATE_LIMITED, unsaid.kind());
        assertTrue(unsaid.retryAfter().isEmpty());
        assertEquals(2, openai.exchanges(FakeOpenAi.CHAT).size());
    }

    @Test
    void contextLengthErrorsOfEachServerAreContextLength() {
        for (Reply r : List.of(Reply.contextLengthVllm(), Reply.contextLengthLlamaServer(), Reply.contextLengthOpenAi(),
                Reply.rawError(400, "{\"object\":\"error\",\"message\":\"This model's maximum context length is 2048 tokens."
                        + " However, you requested 3000 tokens.\",\"type\":\"BadRequestError\",\"param\":null,\"code\":400}"))) {
            EngineException e = failureOf(r);
            assertEquals(Kind.CONTEXT_LENGTH, e.kind(), e.getMessage());
            assertTrue(e.getMessage().contains("STREAMING_LLM_RECENT_SIZE"), e.getMessage());
        }
    }

    @Test
    void otherClientErrorsAreBadRequestsWithTheServersMessage() {
        EngineException e = failureOf(Reply.httpError(400, "invalid_request_error", null, "'temperature' must be at most 2"));
        assertEquals(Kind.BAD_REQUEST, e.kind());
        assertTrue(e.getMessage().contains("'temperature' must be at most 2"), e.getMessage());
        assertEquals(Kind.BAD_REQUEST, failureOf(Reply.rawError(422, "{\"detail\":[{\"msg\":\"field required\"}]}")).kind());
    }

    @Test
    void serverErrorsAreUpstreamErrors() {
        EngineException e = failureOf(Reply.httpError(500, "server_error", null, "CUDA out of memory"));
        assertEquals(Kind.UPSTREAM_ERROR, e.kind());
        assertTrue(e.getMessage().contains("CUDA out of memory") && e.getMessage().contains("500"), e.getMessage());
        EngineException html = failureOf(Reply.rawError(502, "<html><body>502 Bad Gateway</body></html>"));
        assertEquals(Kind.UPSTREAM_ERROR, html.kind());
        assertTrue(html.getMessage().contains("502"), html.getMessage());
    }

    @Test
    void anErrorEventMidStreamFailsTheCallAfterTheTokensBeforeIt() throws Exception {
        openai.reply(Reply.tokens("a", " b", " c").errorAfter(2, "engine crashed"));
        List<String> got = new CopyOnWriteArrayList<>();
        EngineException e = failure(engine.generate(HELLO, GenerationOptions.DEFAULTS, got::add));
        assertEquals(Kind.UPSTREAM_ERROR, e.kind());
        assertTrue(e.getMessage().contains("engine crashed"), e.getMessage());
        assertEquals(List.of("a", " b"), got);
    }

    @Test
    void aMalformedEventIsAProtocolError() {
        openai.reply(Reply.tokens("a", " b").malformedAfter(1));
        EngineException e = failure(engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> { }));
        assertEquals(Kind.PROTOCOL, e.kind());
        assertTrue(e.getMessage().contains("502 Bad Gateway"), "shows what came: " + e.getMessage());
    }

    @Test
    void aConnectionClosedBeforeTheFinishIsDropped() {
        openai.reply(Reply.tokens("a", " b", " c").dropAfter(2));
        EngineException e = failure(engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> { }));
        assertEquals(Kind.DROPPED, e.kind());
        assertTrue(e.getMessage().contains("after 2 tokens"), e.getMessage());
    }

    @Test
    void silenceLongerThanTheIdleTimeoutFailsAndClosesTheConnection() throws Exception {
        try (OpenAiEngine impatient = new OpenAiEngine(openai.baseUri(), MODEL, KEY, Duration.ofMillis(500))) {
            openai.reply(Reply.tokens("a", " b").stallAfter(1));
            EngineException e = failure(impatient.generate(HELLO, GenerationOptions.DEFAULTS, d -> { }));
            assertEquals(Kind.TIMEOUT, e.kind());
            assertTrue(e.getMessage().contains("500 ms") && e.getMessage().contains("after 1 tokens"), e.getMessage());
            openai.awaitExchange(FakeOpenAi.CHAT, 0, WAIT).awaitClientClosed(WAIT);

            openai.reply(Reply.echo().stallBeforeHeaders());
            EngineException early = failure(impatient.generate(HELLO, GenerationOptions.DEFAULTS, d -> { }));
            assertEquals(Kind.TIMEOUT, early.kind());
            assertTrue(early.getMessage().contains("no token yet"), early.getMessage());
            openai.awaitExchange(FakeOpenAi.CHAT, 1, WAIT).awaitClientClosed(WAIT);
        }
    }

    @Test
    void cancelMidStreamClosesTheUpstreamConnectionPromptly() throws Exception {
        openai.reply(Reply.tokens("a", " b", " c", " d").stallAfter(2));
        CountDownLatch twoTokens = new CountDownLatch(2);
        Generation g = engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> twoTokens.countDown());
        assertTrue(twoTokens.await(WAIT.toSeconds(), TimeUnit.SECONDS));
        Exchange chat = openai.awaitExchange(FakeOpenAi.CHAT, 0, WAIT);
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
    void cancelWhileTokensFlowStopsTheServerGenerating() throws Exception {
        openai.reply(Reply.tokens(Collections.nCopies(10_000, " w")).tokenDelay(Duration.ofMillis(1)));
        CountDownLatch some = new CountDownLatch(3);
        Generation g = engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> some.countDown());
        assertTrue(some.await(WAIT.toSeconds(), TimeUnit.SECONDS));
        Exchange chat = openai.awaitExchange(FakeOpenAi.CHAT, 0, WAIT);
        long cancelledAt = System.nanoTime();
        g.cancel();
        long closedAt = chat.awaitClientClosed(WAIT);
        assertTrue(closedAt - cancelledAt < PROMPT_CANCEL_NANOS,
                "upstream saw the close " + TimeUnit.NANOSECONDS.toMillis(closedAt - cancelledAt) + " ms after cancel");
        assertEquals(FinishReason.CANCELLED, await(g).finishReason());
        assertTrue(chat.tokensSent() < 10_000, "the fake stopped generating");
    }

    @Test
    void cancelBeforeTheHeadersClosesTheUpstreamConnectionPromptly() throws Exception {
        openai.reply(Reply.echo().stallBeforeHeaders());
        Generation g = engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> { });
        Exchange chat = openai.awaitExchange(FakeOpenAi.CHAT, 0, WAIT);
        long cancelledAt = System.nanoTime();
        g.cancel();
        long closedAt = chat.awaitClientClosed(WAIT);
        assertTrue(closedAt - cancelledAt < PROMPT_CANCEL_NANOS,
                "upstream saw the close " + TimeUnit.NANOSECONDS.toMillis(closedAt - cancelledAt) + " ms after cancel");
        assertEquals(FinishReason.CANCELLED, await(g).finishReason());
    }

    @Test
    void cancelDuringTheRetryWaitSendsNoSecondRequest() throws Exception {
        openai.reply(Reply.rateLimited(3));
        Generation g = engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> { });
        openai.awaitExchange(FakeOpenAi.CHAT, 0, WAIT).responseEnded().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        long cancelledAt = System.nanoTime();
        g.cancel();
        assertEquals(FinishReason.CANCELLED, await(g).finishReason());
        assertTrue(System.nanoTime() - cancelledAt < TimeUnit.SECONDS.toNanos(2), "settled without waiting out Retry-After");
        openai.reply(Reply.tokens("next"));
        assertEquals("next", await(engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> { })).text());
        assertEquals(2, openai.exchanges(FakeOpenAi.CHAT).size(), "the cancelled call was not retried");
    }

    @Test
    void modelsListsWhatTheServerServes() {
        List<ModelInfo> models = engine.models();
        assertEquals(List.of(new ModelInfo(MODEL, FakeOpenAi.CREATED, "fake-openai"),
                new ModelInfo("text-embed", FakeOpenAi.CREATED, "fake-openai")), models);
    }

    @Test
    void embeddingsComeBackOnePerInputInOrder() {
        Embeddings e = engine.embed("text-embed", List.of("first text", "second"));
        assertEquals("text-embed", e.model());
        assertEquals(2, e.vectors().size());
        assertArrayEquals(FakeOpenAi.embedding("first text"), e.vectors().get(0));
        assertArrayEquals(FakeOpenAi.embedding("second"), e.vectors().get(1));
        assertEquals(3, e.promptTokens());
        JsonObject body = openai.exchanges(FakeOpenAi.EMBEDDINGS).getFirst().json();
        assertEquals("text-embed", body.getString("model"));
        assertEquals(Kind.MODEL_NOT_FOUND, assertThrows(EngineException.class,
                () -> engine.embed("nope", List.of("x"))).kind());
    }

    @Test
    void healthTellsReadyFromAMissingModel() {
        EngineHealth ready = engine.health();
        assertEquals(EngineHealth.Status.READY, ready.status(), ready.message());
        openai.models("something-else");
        EngineHealth missing = engine.health();
        assertEquals(EngineHealth.Status.MODEL_MISSING, missing.status());
        assertTrue(missing.message().contains(MODEL) && missing.message().contains("something-else"), missing.message());
        assertEquals("Bearer " + KEY, openai.exchanges(FakeOpenAi.MODELS).getLast().header("Authorization"));
    }

    @Test
    void theKeyIsInNoTextTheEngineShows() {
        assertNoKey(engine.toString());
        assertTrue(engine.toString().contains("API key set"), engine.toString());
    }

    @Test
    void badConstructionIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new OpenAiEngine(URI.create("ftp://x/v1"), MODEL, null, WAIT));
        assertThrows(IllegalArgumentException.class, () -> new OpenAiEngine(openai.baseUri(), " ", null, WAIT));
        assertThrows(IllegalArgumentException.class, () -> new OpenAiEngine(openai.baseUri(), MODEL, null, Duration.ZERO));
    }
}
