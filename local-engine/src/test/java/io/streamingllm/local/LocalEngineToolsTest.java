package io.streamingllm.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.GenerationResult;
import io.streamingllm.core.engine.TokenListener;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.engine.ToolDefinition;
import io.streamingllm.core.engine.ToolOptions;
import io.streamingllm.local.gguf.GgmlType;
import io.streamingllm.local.template.ChatTemplate.ToolFormat;
import io.streamingllm.local.template.ToolCallText;
import io.streamingllm.local.testing.RandomModel;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.StringReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tools on the local engine (issue 14, point 7): a random-weight model whose GGUF carries a Qwen 2.5-style template
 * gets the tools rendered into its prompt; a model whose template has no tool format refuses them; and generated
 * text is split into what the client sees and the calls.
 */
class LocalEngineToolsTest {
    /** ChatML markers and Qwen 2.5's tool block markers: enough for the engine to see a Hermes tool format. */
    private static final String QWEN_LIKE = "{%- if tools %}<|im_start|>system\n# Tools<tools>{{ tool | tojson }}</tools>"
            + "<tool_call></tool_call>{%- endif %}{%- for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}"
            + "<|im_end|>\n{%- endfor %}";
    private static final ToolDefinition WEATHER = new ToolDefinition("get_weather", "Weather of a city",
            Json.createReader(new StringReader("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}"))
                    .readObject());
    private static final GenerationOptions GREEDY = new GenerationOptions(0.0, 4, null, List.of(), null, null);

    @TempDir
    Path dir;

    @Test
    void aTemplateWithAToolFormatGetsTheToolsInThePromptAndOneWithoutRefusesThem() throws Exception {
        Path qwen = dir.resolve("qwen-tools.gguf");
        RandomModel.writeWithTemplate(qwen, "qwen2", GgmlType.Q8_0, 5, QWEN_LIKE, List.of("<|im_start|>", "<|im_end|>"));
        List<ChatMessage> chat = List.of(ChatMessage.system("be brief"), ChatMessage.user("weather in paris"));
        GenerationOptions withTools = GREEDY.withTools(new ToolOptions(List.of(WEATHER), ToolOptions.Choice.AUTO, null, null));
        try (LocalEngine engine = LocalEngine.open("random", qwen, 1, 4, 512, 16)) {
            assertEquals(ToolFormat.HERMES, engine.template().toolFormat());
            engine.requireSupported(withTools);
            List<String> deltas = new CopyOnWriteArrayList<>();
            GenerationResult r = engine.generate(chat, withTools, deltas::add).result().get(60, TimeUnit.SECONDS);
            int[] rendered = engine.template().render(chat, List.of(WEATHER));
            assertEquals(rendered.length, r.promptTokens(), "the prompt the model read holds the tools");
            assertTrue(rendered.length > engine.template().render(chat).length + 40, "the tools block is in it");
            // (this random vocabulary has no piece for a space: it is spelled with the bytes of SentencePiece's U+2581)
            String prompt = engine.tokenizer().decode(rendered).replace('\u2581', ' ');
            assertTrue(prompt.contains("<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"get_weather\""), prompt);
            assertEquals(String.join("", deltas), r.text());
            assertTrue(r.toolCalls().isEmpty() == (r.finishReason() != FinishReason.TOOL_CALLS), r.toString());
        }

        Path plain = dir.resolve("plain.gguf");
        RandomModel.write(plain, "llama", GgmlType.Q8_0, 6);
        try (LocalEngine engine = LocalEngine.open("random", plain, 1, 4, 64, 16)) {
            assertEquals(ToolFormat.NONE, engine.template().toolFormat());
            EngineException e = assertThrows(EngineException.class, () -> engine.requireSupported(withTools));
            assertEquals(EngineException.Kind.BAD_REQUEST, e.kind());
            assertTrue(e.getMessage().startsWith("this model's chat template has no tool format"), e.getMessage());
            engine.requireSupported(GREEDY.withTools(new ToolOptions(List.of(WEATHER), ToolOptions.Choice.NONE, null, null)));
        }
    }

    /** Llama 3.1's tool parts (the ipython role), enough for the engine to see its JSON tool format. */
    private static final String LLAMA31_LIKE = "{{- \"<|start_header_id|>system<|end_header_id|>\\n\\n\" }}{%- if tools "
            + "is not none %}{{- \"Environment: ipython\\n\" }}{%- endif %}{%- for message in messages %}{%- if "
            + "message.role == \"ipython\" %}{{- \"<|start_header_id|>ipython<|end_header_id|>\\n\\n\" }}{%- endif %}"
            + "{%- endfor %}";
    private static final ToolDefinition FORECAST = new ToolDefinition("get_forecast", "Forecast of a city",
            Json.createReader(new StringReader("{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\","
                    + "\"maxLength\":12},\"days\":{\"type\":\"integer\"},\"unit\":{\"enum\":[\"c\",\"f\"]}},"
                    + "\"required\":[\"city\",\"unit\"],\"additionalProperties\":false}")).readObject());
    private static final ToolDefinition CLOCK = new ToolDefinition("get_time", "The time now", null);

    private Path qwenModel() throws Exception {
        Path qwen = dir.resolve("qwen-tools.gguf");
        RandomModel.writeWithTemplate(qwen, "qwen2", GgmlType.Q8_0, 5, QWEN_LIKE, List.of("<|im_start|>", "<|im_end|>"));
        return qwen;
    }

    /** A generation's streamed text and calls, and its result. */
    private record Turn(String streamed, List<ToolCall> calls, GenerationResult result) {
    }

    private static Turn turn(LocalEngine engine, String key, List<ChatMessage> chat, GenerationOptions options)
            throws Exception {
        StringBuilder streamed = new StringBuilder();
        List<ToolCall> calls = new CopyOnWriteArrayList<>();
        GenerationResult r = engine.generate(key, chat, options, new TokenListener() {
            @Override
            public void onToken(String delta) {
                streamed.append(delta);
            }

            @Override
            public void onToolCall(ToolCall call) {
                calls.add(call);
            }
        }).result().get(60, TimeUnit.SECONDS);
        return new Turn(streamed.toString(), calls, r);
    }

    private static GenerationOptions sampled(long seed, int maxTokens, ToolOptions tools) {
        return sampled(1.0, seed, maxTokens, tools);
    }

    private static GenerationOptions sampled(double temperature, long seed, int maxTokens, ToolOptions tools) {
        return new GenerationOptions(temperature, maxTokens, seed, List.of(), null, null).withTools(tools);
    }

    /** Arguments valid against {@link #FORECAST}'s schema: city (at most 12 code points), unit c or f, maybe days. */
    private static void assertForecastArguments(ToolCall call) {
        JsonObject args = call.argumentsObject();
        String city = args.getString("city");
        assertTrue(city.codePointCount(0, city.length()) <= 12, call.arguments());
        assertTrue(List.of("c", "f").contains(args.getString("unit")), call.arguments());
        assertTrue(Set.of("city", "days", "unit").containsAll(args.keySet()), call.arguments());
        if (args.containsKey("days")) {
            assertTrue(args.getJsonNumber("days").isIntegral(), call.arguments());
        }
    }

    @Test
    void toolChoiceNamingAFunctionMakesTheReplyACallToItWithArgumentsValidAgainstItsSchema() throws Exception {
        List<ChatMessage> chat = List.of(ChatMessage.system("be brief"), ChatMessage.user("forecast for paris"));
        ToolOptions named = new ToolOptions(List.of(WEATHER, FORECAST), ToolOptions.Choice.FUNCTION, "get_forecast", false);
        try (LocalEngine engine = LocalEngine.open("random", qwenModel(), 1, 4, 512, 16)) {
            for (long seed = 1; seed <= 6; seed++) { // random weights write anything they are let to
                Turn t = turn(engine, null, chat, sampled(seed, 200, named));
                assertEquals(FinishReason.TOOL_CALLS, t.result().finishReason(), "seed " + seed + ": " + t.result());
                assertEquals(1, t.result().toolCalls().size(), "parallel_tool_calls false: one call, then the reply ends");
                ToolCall call = t.result().toolCalls().getFirst();
                assertEquals("get_forecast", call.name());
                assertForecastArguments(call);
                assertEquals(t.result().toolCalls(), t.calls(), "the call reached the listener");
                assertEquals("", t.streamed(), "no markup streams: the reply is the call");
                assertEquals("", t.result().text());
            }
        }
    }

    @Test
    void toolChoiceRequiredMakesTheModelCallOneOfTheOfferedToolsInEitherFormat() throws Exception {
        List<ChatMessage> chat = List.of(ChatMessage.user("what now"));
        ToolOptions required = new ToolOptions(List.of(FORECAST, CLOCK), ToolOptions.Choice.REQUIRED, null, null);
        Set<String> named = new HashSet<>();
        try (LocalEngine engine = LocalEngine.open("random", qwenModel(), 1, 4, 512, 16)) {
            ToolOptions none = new ToolOptions(List.of(FORECAST, CLOCK), ToolOptions.Choice.NONE, null, null);
            Turn free = turn(engine, null, chat, sampled(1, 4, none));
            assertEquals(engine.template().render(chat).length, free.result().promptTokens(), "none: no tools offered");
            assertTrue(free.result().toolCalls().isEmpty());
            for (long seed = 1; seed <= 8; seed++) { // hot: these random weights lean to one name
                Turn t = turn(engine, null, chat, sampled(3.0, seed, 200, required));
                assertEquals(FinishReason.TOOL_CALLS, t.result().finishReason(), "seed " + seed + ": " + t.result());
                ToolCall first = t.result().toolCalls().getFirst();
                named.add(first.name());
                if (first.name().equals("get_forecast")) {
                    assertForecastArguments(first);
                } else {
                    assertEquals("get_time", first.name(), first.toString());
                    first.argumentsObject(); // a tool without parameters gets an object
                }
                assertTrue(!t.streamed().contains("<tool_call>") && !t.result().text().contains("<tool_call>"), t.streamed());
            }
        }
        assertEquals(Set.of("get_forecast", "get_time"), named, "the model picks the tool: both were picked");

        Path llama = dir.resolve("llama31-tools.gguf");
        RandomModel.writeWithTemplate(llama, "llama", GgmlType.Q8_0, 7, LLAMA31_LIKE,
                List.of("<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", "<|eom_id|>"));
        ToolOptions one = new ToolOptions(List.of(FORECAST), ToolOptions.Choice.REQUIRED, null, null);
        try (LocalEngine engine = LocalEngine.open("random", llama, 1, 4, 512, 16)) {
            assertEquals(ToolFormat.LLAMA3_JSON, engine.template().toolFormat());
            for (long seed = 1; seed <= 3; seed++) {
                Turn t = turn(engine, null, chat, sampled(seed, 150, one));
                assertEquals(FinishReason.TOOL_CALLS, t.result().finishReason(), "seed " + seed + ": " + t.result());
                assertEquals(1, t.result().toolCalls().size(), "a Llama 3.1 reply is one call");
                assertEquals("get_forecast", t.result().toolCalls().getFirst().name());
                assertForecastArguments(t.result().toolCalls().getFirst());
                assertEquals("", t.streamed());
            }
        }
    }

    @Test
    void aForcedCallThatCannotFitInMaxTokensIsABadRequest() throws Exception {
        ToolOptions named = new ToolOptions(List.of(FORECAST), ToolOptions.Choice.FUNCTION, "get_forecast", null);
        try (LocalEngine engine = LocalEngine.open("random", qwenModel(), 1, 4, 512, 16)) {
            engine.requireSupported(sampled(1, 200, named));
            EngineException e = assertThrows(EngineException.class, () -> engine.requireSupported(sampled(1, 12, named)));
            assertEquals(EngineException.Kind.BAD_REQUEST, e.kind());
            assertTrue(e.getMessage().startsWith("max_new_tokens 12 is too small for the tool call tool_choice requires"),
                    e.getMessage());
            engine.requireSupported(sampled(1, 12, new ToolOptions(List.of(FORECAST), ToolOptions.Choice.AUTO, null, null)));
        }
    }

    @Test
    void afterARestartTheTurnWithTheResultsOfTheLastRepliesCallsContinuesTheSavedCache() throws Exception {
        Path model = qwenModel();
        LocalEngine.KvDisk disk = new LocalEngine.KvDisk(dir.resolve("kv"), 1L << 30);
        List<ChatMessage> chat = List.of(ChatMessage.system("be brief"), ChatMessage.user("forecast for paris"));
        ToolOptions named = new ToolOptions(List.of(FORECAST), ToolOptions.Choice.FUNCTION, "get_forecast", false);
        ToolCall call;
        try (LocalEngine engine = LocalEngine.open("random", model, 1, 4, 512, 16, 4, disk)) {
            call = turn(engine, "agent", chat, sampled(3, 200, named)).result().toolCalls().getFirst();
            engine.awaitSaved();
        }
        List<ChatMessage> withResult = new ArrayList<>(chat);
        withResult.add(ChatMessage.toolCalls("", List.of(call)));
        withResult.add(ChatMessage.toolResult(call.id(), call.name(), "{\"temp_c\": 21}"));
        ToolOptions auto = new ToolOptions(List.of(FORECAST), ToolOptions.Choice.AUTO, null, null);
        try (LocalEngine engine = LocalEngine.open("random", model, 1, 4, 512, 16, 4, disk)) {
            GenerationResult r = turn(engine, "agent", withResult, sampled(4, 8, auto)).result();
            int whole = engine.template().render(withResult, List.of(FORECAST)).length;
            assertTrue(!r.promptTokensExact() && r.promptTokens() < whole / 2,
                    "only the result is prefilled (" + r.promptTokens() + " of " + whole + " tokens)");
        }
    }

    @Test
    void generatedTextStreamsUntilACallMayBeginAndTheCallsComeWholeAtTheEnd() {
        List<String> text = new ArrayList<>();
        List<ToolCall> calls = new ArrayList<>();
        TokenListener client = new TokenListener() {
            @Override
            public void onToken(String delta) {
                text.add(delta);
            }

            @Override
            public void onToolCall(ToolCall call) {
                calls.add(call);
            }
        };
        ToolCallListener l = new ToolCallListener(client, ToolFormat.HERMES, List.of(WEATHER));
        l.onToken("Let me ");
        l.onToken("check.\n<to");
        l.onToken("ol_call>\n{\"name\": \"get_weather\", ");
        l.onToken("\"arguments\": {\"city\": \"Paris\"}}\n</tool_call>");
        assertEquals(List.of("Let me ", "check.\n"), text, "no markup reaches the client");
        assertTrue(calls.isEmpty(), "calls come once the generation ended");
        ToolCallText.Parsed parsed = l.finish();
        assertEquals(List.of("get_weather"), calls.stream().map(ToolCall::name).toList());
        assertEquals("{\"city\":\"Paris\"}", calls.getFirst().arguments());
        assertEquals(parsed.calls(), calls);
        assertEquals("Let me check.\n", l.shownText());

        List<String> llama = new ArrayList<>();
        ToolCallListener answer = new ToolCallListener(llama::add, ToolFormat.LLAMA3_JSON, List.of(WEATHER));
        answer.onToken("{\"temp\": ");
        answer.onToken("21}");
        assertEquals(List.of(), llama, "an answer that starts as JSON is held until it is known not to be a call");
        assertTrue(answer.finish().calls().isEmpty());
        assertEquals(List.of("{\"temp\": 21}"), llama);

        ToolCallListener broken = new ToolCallListener(d -> { }, ToolFormat.HERMES, List.of(WEATHER));
        broken.onToken("<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"ci");
        assertThrows(ToolCallListener.BrokenCall.class, broken::finish);
    }
}
