package io.streamingllm.server.ollama;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.ResponseFormat;
import io.streamingllm.core.engine.ToolDefinition;
import io.streamingllm.core.engine.ToolOptions;
import io.streamingllm.server.edge.ApiException;
import io.streamingllm.server.http.JsonFields;
import io.streamingllm.server.tools.Refusal;
import io.streamingllm.server.tools.ToolMessages;
import io.streamingllm.server.tools.ToolsJson;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.util.ArrayList;
import java.util.List;

/**
 * The body of {@code /api/chat} ({@code messages}) or {@code /api/generate} ({@code prompt}, {@code system}):
 * the model it names (passed to the engine; the engine's own is reported when none), the prompt, the options, the {@code format} ({@code "json"} or a JSON
 * schema; the engine refuses with 400 what it cannot enforce), {@code tools} with the calls and results in the
 * messages ({@link ToolMessages}), and whether to stream (the default).
 */
record OllamaRequest(String model, List<ChatMessage> messages, GenerationOptions options, boolean stream) {
    private static final int MAX_PREDICT = 1 << 20;

    static OllamaRequest parse(JsonObject body, boolean chatApi, String engineModel) {
        JsonFields fields = JsonFields.of(body, "");
        String named = fields.string("model").filter(m -> !m.isBlank()).orElse(null);
        String model = named == null ? engineModel : named;
        List<ChatMessage> messages = chatApi ? messages(body) : prompt(fields);
        // the model a request names reaches the engine (an Ollama upstream serves many)
        GenerationOptions options = fields.object("options").map(OllamaRequest::options)
                .orElse(GenerationOptions.DEFAULTS).withFormat(format(body.get("format"))).withModel(named);
        if (chatApi) {
            List<ToolDefinition> tools = ToolsJson.definitions(body.get("tools"), Refusal.OLLAMA);
            options = options.withTools(new ToolOptions(tools, ToolOptions.Choice.AUTO, null, null));
        }
        boolean stream = fields.bool("stream").orElse(true);
        return new OllamaRequest(model, messages, options, stream);
    }

    /** Ollama's {@code format}: {@code "json"} or a JSON schema (the engine refuses, 400, what it cannot enforce). */
    private static ResponseFormat format(JsonValue v) {
        try {
            return ResponseFormat.fromOllama(v);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
    }

    private static List<ChatMessage> messages(JsonObject body) {
        JsonValue v = body.get("messages");
        if (v == null || v.getValueType() != JsonValue.ValueType.ARRAY) {
            throw ApiException.badRequest("messages must be an array of {role, content}");
        }
        List<ChatMessage> out = new ArrayList<>();
        ToolMessages tools = new ToolMessages(Refusal.OLLAMA, false);
        int i = 0;
        for (JsonValue m : v.asJsonArray()) {
            if (m.getValueType() != JsonValue.ValueType.OBJECT) {
                throw ApiException.badRequest("messages[" + i + "] must be an object {role, content}");
            }
            JsonFields message = JsonFields.of(m.asJsonObject(), "");
            int index = i;
            String role = message.string("role").orElseThrow(
                    () -> ApiException.badRequest("messages[" + index + "].role must be a string"));
            String content = message.string("content").orElse("");
            ChatMessage.Role r;
            try {
                r = ChatMessage.Role.fromWire(role);
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("messages[" + i + "]: " + e.getMessage()
                        + " (system, user, assistant and tool are supported)");
            }
            String at = "messages[" + i + "]";
            out.add(switch (r) {
                case ASSISTANT -> tools.assistant(m.asJsonObject(), content, at);
                case TOOL -> tools.result(m.asJsonObject(), content, at);
                default -> new ChatMessage(r, content);
            });
            i++;
        }
        if (out.isEmpty()) {
            throw ApiException.badRequest("messages is empty");
        }
        return out;
    }

    private static List<ChatMessage> prompt(JsonFields fields) {
        String prompt = fields.string("prompt").orElseThrow(() -> ApiException.badRequest("prompt must be a string"));
        List<ChatMessage> out = new ArrayList<>(2);
        fields.string("system").filter(s -> !s.isEmpty()).ifPresent(s -> out.add(ChatMessage.system(s)));
        out.add(ChatMessage.user(prompt));
        return out;
    }

    private static GenerationOptions options(JsonObject o) {
        JsonFields fields = JsonFields.of(o, "options.");
        Double temperature = fields.number("temperature").orElse(null);
        // below 1 sets no limit (Ollama's clients send -1 for that)
        Integer numPredict = fields.integer("num_predict").filter(n -> n > 0).map(n -> (int) Math.min(n, MAX_PREDICT))
                .orElse(null);
        // seed and stop have always been read leniently here: a value of another type is ignored, not refused
        Long seed = o.get("seed") instanceof JsonNumber n ? n.longValue() : null;
        List<String> stop = List.of();
        if (o.get("stop") instanceof JsonString s) {
            stop = List.of(s.getString());
        } else if (o.get("stop") != null && o.get("stop").getValueType() == JsonValue.ValueType.ARRAY) {
            stop = o.get("stop").asJsonArray().stream().filter(e -> e instanceof JsonString)
                    .map(e -> ((JsonString) e).getString()).toList();
        }
        Double topP = fields.number("top_p").orElse(null);
        return new GenerationOptions(temperature, numPredict, seed, stop, null, null).withTopP(topP);
    }
}
