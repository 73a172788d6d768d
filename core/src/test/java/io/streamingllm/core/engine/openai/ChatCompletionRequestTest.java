package io.streamingllm.core.engine.openai;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.ResponseFormat;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.engine.ToolDefinition;
import io.streamingllm.core.engine.ToolOptions;
import jakarta.json.Json;
import jakarta.json.stream.JsonGenerator;
import jakarta.json.stream.JsonGeneratorFactory;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The one-pass request body against the one Parsson's generator wrote before it ({@link Reference}): the same bytes
 * for any messages, calls, results and options; an unpaired surrogate, which Parsson wrote as {@code ?}, becomes
 * U+FFFD.
 */
class ChatCompletionRequestTest {
    private static final String[] PIECES = {"hello", " ", "\"quoted\"", "back\\slash", "\n", "\r\n", "\t", "\u0000",
            "\u001f", "\u007f", "é", "naïve", "日本語", "🙂", "\u2028", "</s>", "{\"json\": [1, 2]}", "/", ""};

    @Test
    void theBodyIsTheOneTheGeneratorWrote() {
        Random random = new Random(11);
        for (int round = 0; round < 400; round++) {
            List<ChatMessage> messages = new ArrayList<>();
            messages.add(ChatMessage.system(text(random)));
            for (int i = random.nextInt(12); i >= 0; i--) {
                messages.add(ChatMessage.user(text(random)));
                if (random.nextInt(4) == 0) {
                    String id = "call_" + random.nextInt(1000);
                    messages.add(ChatMessage.toolCalls(text(random), List.of(new ToolCall(id, "look_up",
                            "{\"q\":\"" + text(random).replace("\\", "").replace("\"", "") + "\"}"))));
                    messages.add(ChatMessage.toolResult(id, "look_up", text(random)));
                } else {
                    messages.add(ChatMessage.assistant(text(random)));
                }
            }
            GenerationOptions o = options(random);
            String model = "model-" + text(random);
            assertArrayEquals(Reference.write(model, messages, o), ChatCompletionRequest.write(model, messages, o),
                    "round " + round);
        }
    }

    @Test
    void anUnpairedSurrogateBecomesTheReplacementCharacter() {
        byte[] body = ChatCompletionRequest.write("m", List.of(ChatMessage.user("a\ud800b")), GenerationOptions.DEFAULTS);
        assertEquals("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"a\ufffdb\"}],\"stream\":true,"
                + "\"stream_options\":{\"include_usage\":true}}", new String(body, StandardCharsets.UTF_8));
    }

    private static GenerationOptions options(Random random) {
        GenerationOptions o = GenerationOptions.DEFAULTS;
        if (random.nextBoolean()) {
            o = new GenerationOptions(random.nextBoolean() ? 0.7 : 1e-7, 1 + random.nextInt(4096), (long) random.nextInt(),
                    List.of(text(random), "</s>"), 4096, 512).withTopP(random.nextBoolean() ? null : 0.95);
        }
        if (random.nextBoolean()) {
            o = o.withTools(new ToolOptions(List.of(new ToolDefinition("look_up", text(random),
                    Json.createObjectBuilder().add("type", "object").build())),
                    random.nextBoolean() ? ToolOptions.Choice.AUTO : ToolOptions.Choice.REQUIRED, null,
                    random.nextBoolean() ? null : Boolean.TRUE));
        }
        if (random.nextBoolean()) {
            o = o.withFormat(random.nextBoolean() ? ResponseFormat.JSON
                    : ResponseFormat.schema(Json.createObjectBuilder().add("type", "object").build()));
        }
        return o;
    }

    private static String text(Random random) {
        StringBuilder sb = new StringBuilder();
        for (int i = random.nextInt(random.nextBoolean() ? 4 : 400); i > 0; i--) {
            sb.append(random.nextInt(3) == 0 ? PIECES[random.nextInt(PIECES.length)] : "w" + random.nextInt(100) + " ");
        }
        return sb.toString();
    }

    /** The body as Parsson's generator wrote it before the one-pass writer. */
    private static final class Reference {
        private static final JsonGeneratorFactory GENERATORS = Json.createGeneratorFactory(Map.of());

        static byte[] write(String model, List<ChatMessage> messages, GenerationOptions o) {
            long chars = 0;
            for (ChatMessage m : messages) {
                chars += m.content().length();
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(256 + chars + chars / 8, 1 << 24));
            try (JsonGenerator g = GENERATORS.createGenerator(out)) {
                g.writeStartObject();
                g.write("model", model);
                g.writeStartArray("messages");
                for (ChatMessage m : messages) {
                    message(g, m);
                }
                g.writeEnd();
                g.write("stream", true);
                g.writeStartObject("stream_options").write("include_usage", true).writeEnd();
                if (o.maxNewTokens() != null) {
                    g.write("max_tokens", o.maxNewTokens()); // max_completion_tokens is OpenAI-only; servers read max_tokens
                }
                if (o.temperature() != null) {
                    g.write("temperature", finite("temperature", o.temperature()));
                }
                if (o.topP() != null) {
                    g.write("top_p", finite("top_p", o.topP()));
                }
                if (o.seed() != null) {
                    g.write("seed", o.seed());
                }
                if (!o.stop().isEmpty()) {
                    g.writeStartArray("stop");
                    o.stop().forEach(g::write);
                    g.writeEnd();
                }
                responseFormat(g, o.format());
                tools(g, o.tools());
                g.writeEnd();
            }
            return out.toByteArray();
        }

        /** A message; an assistant's calls carry their arguments as a JSON string, a tool's result names its call. */
        private static void message(JsonGenerator g, ChatMessage m) {
            g.writeStartObject().write("role", m.role().wireName()).write("content", m.content());
            if (!m.toolCalls().isEmpty()) {
                g.writeStartArray("tool_calls");
                for (ToolCall c : m.toolCalls()) {
                    g.writeStartObject().write("id", c.id()).write("type", "function")
                            .writeStartObject("function").write("name", c.name()).write("arguments", c.arguments())
                            .writeEnd().writeEnd();
                }
                g.writeEnd();
            }
            if (m.toolCallId() != null) {
                g.write("tool_call_id", m.toolCallId());
            }
            g.writeEnd();
        }

        private static void tools(JsonGenerator g, ToolOptions t) {
            if (t.definitions().isEmpty()) {
                return;
            }
            g.writeStartArray("tools");
            for (ToolDefinition d : t.definitions()) {
                g.writeStartObject().write("type", "function").writeStartObject("function").write("name", d.name())
                        .write("description", d.description()).write("parameters", d.parameters()).writeEnd().writeEnd();
            }
            g.writeEnd();
            switch (t.choice()) {
                case AUTO -> { }
                case NONE -> g.write("tool_choice", "none");
                case REQUIRED -> g.write("tool_choice", "required");
                case FUNCTION -> g.writeStartObject("tool_choice").write("type", "function")
                        .writeStartObject("function").write("name", t.function()).writeEnd().writeEnd();
            }
            if (t.parallel() != null) {
                g.write("parallel_tool_calls", t.parallel());
            }
        }

        private static void responseFormat(JsonGenerator g, ResponseFormat f) {
            switch (f.type()) {
                case NONE -> { }
                case JSON -> g.writeStartObject("response_format").write("type", "json_object").writeEnd();
                case JSON_SCHEMA -> g.writeStartObject("response_format").write("type", "json_schema")
                        .writeStartObject("json_schema").write("name", "response").write("schema", f.schema())
                        .write("strict", true).writeEnd().writeEnd();
            }
        }

        private static double finite(String name, double v) {
            if (!Double.isFinite(v)) {
                throw new IllegalArgumentException(name + " must be a finite number, got " + v);
            }
            return v;
        }
    }
}
