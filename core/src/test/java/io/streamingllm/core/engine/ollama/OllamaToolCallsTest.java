package io.streamingllm.core.engine.ollama;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.GenerationResult;
import io.streamingllm.core.engine.TokenListener;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.engine.ToolDefinition;
import io.streamingllm.core.engine.ToolOptions;
import io.streamingllm.core.testing.FakeOllama;
import io.streamingllm.core.testing.FakeOllama.Call;
import io.streamingllm.core.testing.FakeOllama.Reply;
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
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tool calling through an Ollama upstream: tools out, whole calls (no ids) in, results back with tool_name. */
class OllamaToolCallsTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final ToolDefinition WEATHER = new ToolDefinition("get_weather", "Current weather of a city",
            Json.createObjectBuilder().add("type", "object").build());

    private FakeOllama ollama;
    private OllamaEngine engine;

    @BeforeEach
    void start() {
        ollama = FakeOllama.start("llama3.2:latest");
        engine = new OllamaEngine(ollama.baseUri(), "llama3.2:latest", WAIT);
    }

    @AfterEach
    void stop() {
        engine.close();
        ollama.close();
    }

    private GenerationResult run(List<ChatMessage> messages, GenerationOptions o, List<Object> events) throws Exception {
        return engine.generate(messages, o, new TokenListener() {
            @Override
            public void onToken(String delta) {
                events.add(delta);
            }

            @Override
            public void onToolCall(ToolCall call) {
                events.add(call);
            }
        }).result().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    @Test
    void callsArriveWholeWithStableIdsAndObjectArgumentsAndTheToolsAreSent() throws Exception {
        ollama.reply(Reply.tokens("ok").toolCalls(new Call("get_weather", "{\"city\":\"Paris\"}"),
                new Call("get_weather", "{\"city\":\"Oslo\"}")));
        GenerationOptions o = GenerationOptions.DEFAULTS.withTools(new ToolOptions(List.of(WEATHER), ToolOptions.Choice.AUTO, null, null));
        List<Object> events = new CopyOnWriteArrayList<>();
        GenerationResult r = run(List.of(ChatMessage.user("Weather?")), o, events);

        assertEquals(FinishReason.TOOL_CALLS, r.finishReason());
        assertEquals(2, r.toolCalls().size());
        ToolCall paris = r.toolCalls().get(0);
        assertEquals(List.of("ok", paris, r.toolCalls().get(1)), events);
        assertEquals("Paris", paris.argumentsObject().getString("city"));
        assertTrue(paris.id().startsWith("call_"), paris.id());
        assertFalse(paris.id().equals(r.toolCalls().get(1).id()), "two calls, two ids");

        List<Object> again = new CopyOnWriteArrayList<>();
        assertEquals(r.toolCalls(), run(List.of(ChatMessage.user("Weather?")), o, again).toolCalls(),
                "the same call gets the same id, so a result sent back after a restart still matches");

        JsonObject body = ollama.awaitExchange("/api/chat", 0, WAIT).json();
        assertEquals("get_weather", body.getJsonArray("tools").getJsonObject(0).getJsonObject("function").getString("name"));
    }

    @Test
    void callsGoBackWithObjectArgumentsAndResultsWithToolName() throws Exception {
        ollama.reply(Reply.tokens("Sunny."));
        ToolCall call = new ToolCall("call_x", "get_weather", "{\"city\":\"Paris\"}");
        run(List.of(ChatMessage.user("Weather?"), ChatMessage.toolCalls("", List.of(call)),
                ChatMessage.toolResult("call_x", "get_weather", "21 C")), GenerationOptions.DEFAULTS, new CopyOnWriteArrayList<>());
        JsonObject body = ollama.awaitExchange("/api/chat", 0, WAIT).json();
        JsonObject fn = body.getJsonArray("messages").getJsonObject(1).getJsonArray("tool_calls").getJsonObject(0)
                .getJsonObject("function");
        assertEquals("Paris", fn.getJsonObject("arguments").getString("city"));
        JsonObject result = body.getJsonArray("messages").getJsonObject(2);
        assertEquals("tool", result.getString("role"));
        assertEquals("get_weather", result.getString("tool_name"));
        assertFalse(body.containsKey("tools"), "no tools offered: none sent");
    }

    @Test
    void aCallWhoseArgumentsAreNotAnObjectFailsTheTurn() {
        ollama.reply(Reply.tokens("x").toolCalls(new Call("get_weather", "[1,2]")));
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> run(List.of(ChatMessage.user("Weather?")), GenerationOptions.DEFAULTS, new CopyOnWriteArrayList<>()));
        assertEquals(EngineException.Kind.PROTOCOL, assertInstanceOf(EngineException.class, e.getCause()).kind());
    }
}
