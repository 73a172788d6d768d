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
import java.io.StringReader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
