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

import java.io.ByteArrayOutputStream;
import java.util.List;
import java.util.Map;

/**
 * The body of {@code POST /chat/completions}: the messages in window order (the sink's system message first, so the
 * server's prefix cache keeps the stable start of the prompt), {@code stream: true} with usage in the last chunk,
 * and the options OpenAI's API has. {@code contextTokens} and {@code keepTokens} have no OpenAI field: the server's
 * context is fixed when it starts.
 */
final class ChatCompletionRequest {
    private static final JsonGeneratorFactory GENERATORS = Json.createGeneratorFactory(Map.of());

    private ChatCompletionRequest() {
    }

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
