package io.streamingllm.core.engine.ollama;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.ResponseFormat;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.engine.ToolDefinition;
import io.streamingllm.core.engine.ToolOptions;
import io.streamingllm.core.engine.http.JsonBytes;
import io.streamingllm.core.engine.http.UpstreamRequest;
import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonValue;

import java.math.BigDecimal;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Writes the Ollama {@code /api/chat} request body as UTF-8 JSON in one pass over its strings ({@link JsonBytes}).
 * It runs once per turn over the whole prompt window, where a JSON builder, its generator and the String-then-bytes
 * round trip cost a tenth of the sidecar's CPU.
 */
final class ChatRequestJson {
    /** Room for the object's keys, punctuation, roles and numbers; strings are sized from their lengths. */
    private static final int FIXED_BYTES = 256;
    private static final int MESSAGE_BYTES = 40;

    private final JsonBytes out;

    private ChatRequestJson(int capacity) {
        this.out = new JsonBytes(capacity);
    }

    /** The request body: model, messages [{role, content}], {@code stream: true}, format, options without nulls. */
    static ChatRequestJson write(String model, List<ChatMessage> messages, GenerationOptions o) {
        long chars = model.length();
        for (ChatMessage m : messages) {
            chars += m.content().length();
        }
        for (String s : o.stop()) {
            chars += s.length();
        }
        ChatRequestJson json = new ChatRequestJson(JsonBytes.capacity(FIXED_BYTES + (long) MESSAGE_BYTES * messages.size(), chars));

        json.ascii("{\"model\":");
        json.string(model);
        json.ascii(",\"messages\":[");
        for (int i = 0; i < messages.size(); i++) {
            ChatMessage m = messages.get(i);
            json.ascii(i == 0 ? "{\"role\":\"" : ",{\"role\":\"");
            json.ascii(m.role().wireName());
            json.ascii("\",\"content\":");
            json.string(m.content());
            json.toolFields(m);
            json.ascii("}");
        }
        json.ascii("],\"stream\":true");
        json.tools(o.tools());
        json.format(o.format());
        json.options(o);
        json.ascii("}");
        return json;
    }

    /** A POST of this body to {@code uri}, without copying it. */
    UpstreamRequest request(URI uri, String... headers) {
        return new UpstreamRequest(uri, List.of(headers), out.buffer(), out.length());
    }

    /** A copy of the body's bytes. */
    byte[] toByteArray() {
        return out.toByteArray();
    }

    /**
     * An assistant's calls (arguments as an object, as Ollama takes them) and a tool result's {@code tool_name};
     * rare and small next to the text, so written through Parsson.
     */
    private void toolFields(ChatMessage m) {
        if (!m.toolCalls().isEmpty()) {
            JsonArrayBuilder calls = Json.createArrayBuilder();
            for (ToolCall c : m.toolCalls()) {
                calls.add(Json.createObjectBuilder().add("function", Json.createObjectBuilder()
                        .add("name", c.name()).add("arguments", c.argumentsObject())));
            }
            raw(",\"tool_calls\":", calls.build());
        }
        if (m.toolName() != null) {
            ascii(",\"tool_name\":");
            string(m.toolName());
        }
    }

    /** {@code tools} in OpenAI's shape, which Ollama takes; Ollama has no tool_choice, so "none" sends no tools. */
    private void tools(ToolOptions t) {
        if (!t.enabled()) {
            return;
        }
        JsonArrayBuilder tools = Json.createArrayBuilder();
        for (ToolDefinition d : t.definitions()) {
            if (t.choice() == ToolOptions.Choice.FUNCTION && !d.name().equals(t.function())) {
                continue; // a named function is the only one offered: the nearest Ollama has to forcing it
            }
            tools.add(Json.createObjectBuilder().add("type", "function").add("function", Json.createObjectBuilder()
                    .add("name", d.name()).add("description", d.description()).add("parameters", d.parameters())));
        }
        raw(",\"tools\":", tools.build());
    }

    private void raw(String key, JsonValue value) {
        ascii(key);
        out.raw(value.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** Ollama's own {@code format}: {@code "json"} or the schema object; nothing for free text. */
    private void format(ResponseFormat f) {
        switch (f.type()) {
            case NONE -> { }
            case JSON -> ascii(",\"format\":\"json\"");
            case JSON_SCHEMA -> {
                ascii(",\"format\":");
                out.raw(f.schema().toString().getBytes(StandardCharsets.UTF_8));
            }
        }
    }

    private void options(GenerationOptions o) {
        int start = out.length();
        ascii(",\"options\":{");
        int empty = out.length();
        if (o.maxNewTokens() != null) {
            key(empty, "num_predict");
            ascii(Integer.toString(o.maxNewTokens()));
        }
        if (o.temperature() != null) {
            double t = o.temperature();
            if (!Double.isFinite(t)) {
                throw new IllegalArgumentException("temperature must be a finite number, got " + t);
            }
            key(empty, "temperature");
            // what Parsson prints for a double, so the body stays as before: 0.7, 1.0, 0.000010, 1.0E-7
            ascii(BigDecimal.valueOf(t).toString());
        }
        if (o.topP() != null) {
            double p = o.topP();
            if (!Double.isFinite(p)) {
                throw new IllegalArgumentException("top_p must be a finite number, got " + p);
            }
            key(empty, "top_p");
            ascii(BigDecimal.valueOf(p).toString());
        }
        if (o.seed() != null) {
            key(empty, "seed");
            ascii(Long.toString(o.seed()));
        }
        if (!o.stop().isEmpty()) {
            key(empty, "stop");
            ascii("[");
            for (int i = 0; i < o.stop().size(); i++) {
                if (i > 0) {
                    ascii(",");
                }
                string(o.stop().get(i));
            }
            ascii("]");
        }
        if (o.contextTokens() != null) {
            key(empty, "num_ctx");
            ascii(Integer.toString(o.contextTokens()));
        }
        if (o.keepTokens() != null) {
            key(empty, "num_keep");
            ascii(Integer.toString(o.keepTokens()));
        }
        if (out.length() == empty) {
            out.truncate(start); // no option set: no "options" key at all
        } else {
            ascii("}");
        }
    }

    private void key(int firstKeyAt, String name) {
        if (out.length() != firstKeyAt) {
            ascii(",");
        }
        ascii("\"");
        ascii(name);
        ascii("\":");
    }

    private void ascii(String s) {
        out.ascii(s);
    }

    private void string(String s) {
        out.string(s);
    }
}
