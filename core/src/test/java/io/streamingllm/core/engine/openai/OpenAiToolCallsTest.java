package io.streamingllm.core.engine.openai;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.GenerationResult;
import io.streamingllm.core.engine.TokenListener;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.engine.ToolDefinition;
import io.streamingllm.core.engine.ToolOptions;
import io.streamingllm.core.testing.FakeOpenAi;
import io.streamingllm.core.testing.FakeOpenAi.Call;
import io.streamingllm.core.testing.FakeOpenAi.Reply;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tool calling through an OpenAI-compatible upstream: tools out, streamed call fragments in, results back. */
class OpenAiToolCallsTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final String MODEL = "gpt-4o-mini";
    static final ToolDefinition WEATHER = new ToolDefinition("get_weather", "Current weather of a city",
            Json.createObjectBuilder().add("type", "object").add("properties", Json.createObjectBuilder()
                    .add("city", Json.createObjectBuilder().add("type", "string"))).build());

    private FakeOpenAi openai;
    private OpenAiEngine engine;

    @BeforeEach
    void start() {
        openai = FakeOpenAi.start(MODEL);
        engine = new OpenAiEngine(openai.baseUri(), MODEL, null, WAIT);
    }

    @AfterEach
    void stop() {
        engine.close();
        openai.close();
    }

    @Test
    void streamedFragmentsBecomeWholeCallsInOrderWithFinishReasonToolCalls() throws Exception {
        openai.reply(Reply.tokens("Let me check.").toolCalls(
                new Call("call_a", "get_weather", "{\"city\":\"Paris\"}"),
                new Call("call_b", "get_weather", "{\"city\":\"Oslo, \\\"NO\\\"\"}")));
        List<Object> events = new CopyOnWriteArrayList<>();
        GenerationResult r = engine.generate(List.of(ChatMessage.user("Weather in Paris and Oslo?")),
                GenerationOptions.DEFAULTS.withTools(new ToolOptions(List.of(WEATHER), ToolOptions.Choice.AUTO, null, true)),
                listener(events)).result().get(WAIT.toSeconds(), TimeUnit.SECONDS);

        ToolCall paris = new ToolCall("call_a", "get_weather", "{\"city\":\"Paris\"}");
        ToolCall oslo = new ToolCall("call_b", "get_weather", "{\"city\":\"Oslo, \\\"NO\\\"\"}");
        assertEquals(List.of("Let me check.", paris, oslo), events);
        assertEquals(FinishReason.TOOL_CALLS, r.finishReason());
        assertEquals(List.of(paris, oslo), r.toolCalls());
        assertEquals("Oslo, \"NO\"", oslo.argumentsObject().getString("city"));

        JsonObject body = openai.awaitExchange(FakeOpenAi.CHAT, 0, WAIT).json();
        JsonObject fn = body.getJsonArray("tools").getJsonObject(0).getJsonObject("function");
        assertEquals("function", body.getJsonArray("tools").getJsonObject(0).getString("type"));
        assertEquals("get_weather", fn.getString("name"));
        assertEquals(WEATHER.parameters(), fn.getJsonObject("parameters"));
        assertTrue(body.getBoolean("parallel_tool_calls"));
    }

    @Test
    void callsAndResultsGoBackInOpenAisShapeAndANamedChoiceIsSent() throws Exception {
        openai.reply(Reply.tokens("Sunny."));
        ToolCall call = new ToolCall("call_a", "get_weather", "{\"city\":\"Paris\"}");
        List<ChatMessage> loop = List.of(ChatMessage.user("Weather in Paris?"), ChatMessage.toolCalls("", List.of(call)),
                ChatMessage.toolResult("call_a", "get_weather", "sunny, 21 C"));
        GenerationResult r = engine.generate(loop, GenerationOptions.DEFAULTS.withTools(
                new ToolOptions(List.of(WEATHER), ToolOptions.Choice.FUNCTION, "get_weather", null)), d -> { })
                .result().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertEquals(FinishReason.STOP, r.finishReason());

        JsonObject body = openai.awaitExchange(FakeOpenAi.CHAT, 0, WAIT).json();
        JsonObject assistant = body.getJsonArray("messages").getJsonObject(1);
        JsonObject sent = assistant.getJsonArray("tool_calls").getJsonObject(0);
        assertEquals("call_a", sent.getString("id"));
        assertEquals("function", sent.getString("type"));
        assertEquals("{\"city\":\"Paris\"}", sent.getJsonObject("function").getString("arguments"));
        JsonObject result = body.getJsonArray("messages").getJsonObject(2);
        assertEquals("tool", result.getString("role"));
        assertEquals("call_a", result.getString("tool_call_id"));
        assertEquals("get_weather", body.getJsonObject("tool_choice").getJsonObject("function").getString("name"));
    }

    @Test
    void brokenArgumentsEndTheTurnWithAProtocolErrorAndTheNextTurnWorks() throws Exception {
        openai.reply(Reply.tokens("x").toolCalls(new Call("call_a", "get_weather", "{\"city\": \"Par")));
        ExecutionException e = assertThrows(ExecutionException.class, () -> engine.generate(
                List.of(ChatMessage.user("Weather?")), GenerationOptions.DEFAULTS, d -> { })
                .result().get(WAIT.toSeconds(), TimeUnit.SECONDS));
        EngineException failure = assertInstanceOf(EngineException.class, e.getCause());
        assertEquals(EngineException.Kind.PROTOCOL, failure.kind());
        assertTrue(failure.getMessage().contains("arguments are not a JSON object"), failure.getMessage());

        openai.reply(Reply.tokens("fine"));
        assertEquals("fine", engine.generate(List.of(ChatMessage.user("again")), GenerationOptions.DEFAULTS, d -> { })
                .result().get(WAIT.toSeconds(), TimeUnit.SECONDS).text());
    }

    static TokenListener listener(List<Object> events) {
        return new TokenListener() {
            @Override
            public void onToken(String delta) {
                events.add(delta);
            }

            @Override
            public void onToolCall(ToolCall call) {
                events.add(call);
            }
        };
    }
}
