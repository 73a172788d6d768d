package io.streamingllm.core.engine.openai;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.ResponseFormat;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.engine.ToolDefinition;
import io.streamingllm.core.engine.ToolOptions;
import io.streamingllm.core.engine.http.JsonBytes;
import jakarta.json.Json;
import jakarta.json.stream.JsonGenerator;
import jakarta.json.stream.JsonGeneratorFactory;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
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
    /** Room for the keys, punctuation and options; the strings are sized from their lengths. */
    private static final int FIXED_BYTES = 256;
    private static final int MESSAGE_BYTES = 40;

    private ChatCompletionRequest() {
    }

    static byte[] write(String model, List<ChatMessage> messages, GenerationOptions o) {
        long chars = model.length();
        for (ChatMessage m : messages) {
            chars += m.content().length();
        }
        // the messages, nearly all of the body, in one pass (a JSON generator took several times as long); the
        // options after them, small, through the generator
        JsonBytes out = new JsonBytes(JsonBytes.capacity(FIXED_BYTES + (long) MESSAGE_BYTES * messages.size(), chars));
        out.ascii("{\"model\":");
        out.string(model);
        out.ascii(",\"messages\":[");
        for (int i = 0; i < messages.size(); i++) {
            if (i > 0) {
                out.ascii(",");
            }
            message(out, messages.get(i));
        }
        out.ascii("],");
        byte[] rest = options(o);
        out.raw(Arrays.copyOfRange(rest, 1, rest.length)); // the generator's object without its "{"
        return out.toByteArray();
    }

    /** The fields after the messages, as one object: stream, stream_options and the options set. */
    private static byte[] options(GenerationOptions o) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(FIXED_BYTES);
        try (JsonGenerator g = GENERATORS.createGenerator(out)) {
            g.writeStartObject();
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
    private static void message(JsonBytes out, ChatMessage m) {
        out.ascii("{\"role\":\"");
        out.ascii(m.role().wireName());
        out.ascii("\",\"content\":");
        out.string(m.content());
        if (!m.toolCalls().isEmpty()) {
            out.ascii(",\"tool_calls\":[");
            for (int i = 0; i < m.toolCalls().size(); i++) {
                ToolCall c = m.toolCalls().get(i);
                out.ascii(i == 0 ? "{\"id\":" : ",{\"id\":");
                out.string(c.id());
                out.ascii(",\"type\":\"function\",\"function\":{\"name\":");
                out.string(c.name());
                out.ascii(",\"arguments\":");
                out.string(c.arguments());
                out.ascii("}}");
            }
            out.ascii("]");
        }
        if (m.toolCallId() != null) {
            out.ascii(",\"tool_call_id\":");
            out.string(m.toolCallId());
        }
        out.ascii("}");
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
