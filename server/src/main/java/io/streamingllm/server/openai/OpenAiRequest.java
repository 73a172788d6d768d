package io.streamingllm.server.openai;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.ResponseFormat;
import io.streamingllm.core.engine.ToolDefinition;
import io.streamingllm.core.engine.ToolOptions;
import io.streamingllm.server.edge.ApiException;
import io.streamingllm.server.edge.RequestBody;
import io.streamingllm.server.http.JsonFields;
import io.streamingllm.server.tools.Refusal;
import io.streamingllm.server.tools.ToolMessages;
import io.streamingllm.server.tools.ToolsJson;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The body of {@code /v1/chat/completions} ({@code messages}) or {@code /v1/completions} ({@code prompt}) as the
 * engine takes it: the model it names (null: the engine's), the messages, the sampling options and
 * {@code response_format}, and how to
 * answer ({@code stream}, {@code stream_options.include_usage}). A field of the wrong type or value is a 400
 * naming it as OpenAI's {@code param}; fields this API has but the sidecar does not act on yet ({@code logprobs},
 * …) are ignored, as OpenAI-compatible servers do. {@code tools}, {@code tool_choice} and
 * {@code parallel_tool_calls} reach the engine; calls and results in the messages are checked
 * ({@link ToolMessages}).
 */
record OpenAiRequest(String model, List<ChatMessage> messages, GenerationOptions options, boolean stream,
                     boolean includeUsage) {
    private static final int MAX_TOKENS = 1 << 20;

    /**
     * A chat body as the client sent it: a plain one's history read without a JSON tree ({@link PlainChatBody}), its
     * other fields as {@link #chat(JsonObject)} reads them; any other body through {@link #chat(JsonObject)} itself,
     * so the result and every refusal are the same either way.
     */
    static OpenAiRequest chat(byte[] body) {
        PlainChatBody.Read plain = PlainChatBody.read(body);
        if (plain != null) {
            JsonObject rest;
            try {
                rest = RequestBody.jsonObject(plain.rest());
            } catch (RuntimeException e) {
                rest = null; // the full reading says what is wrong, where, as it always has
            }
            if (rest != null) {
                return parse(rest, plain.messages());
            }
        }
        return chat(RequestBody.jsonObject(body));
    }

    static OpenAiRequest chat(JsonObject body) {
        return parse(body, messages(body));
    }

    static OpenAiRequest completion(JsonObject body) {
        JsonFields fields = JsonFields.of(body, "");
        if (fields.bool("echo").orElse(false)) {
            throw ApiException.badParam("echo", "echo is not supported: the reply is the completion only");
        }
        return parse(body, List.of(ChatMessage.user(prompt(body.get("prompt")))));
    }

    private static OpenAiRequest parse(JsonObject body, List<ChatMessage> messages) {
        JsonFields fields = JsonFields.of(body, "");
        String model = fields.string("model").filter(m -> !m.isBlank()).orElse(null);
        long n = fields.integer("n").orElse(1L);
        if (n != 1) {
            throw ApiException.badParam("n", "n must be 1: one choice per request is supported, got " + n);
        }
        Integer maxTokens = maxTokens(fields, "max_completion_tokens");
        if (maxTokens == null) {
            maxTokens = maxTokens(fields, "max_tokens");
        }
        Double temperature = number(fields, "temperature", 0, 2);
        Double topP = number(fields, "top_p", 0, 1);
        Long seed = fields.integer("seed").orElse(null);
        List<String> stop = fields.strings("stop").orElse(List.of());
        fields.string("user"); // an end-user id for the upstream's abuse monitoring: checked, not acted on
        boolean stream = fields.bool("stream").orElse(false);
        boolean includeUsage = fields.object("stream_options")
                .flatMap(o -> JsonFields.of(o, "stream_options.").bool("include_usage")).orElse(false);
        GenerationOptions options = new GenerationOptions(temperature, maxTokens, seed, stop, null, null)
                .withTopP(topP).withModel(model).withFormat(format(body.get("response_format")))
                .withTools(tools(body, fields));
        return new OpenAiRequest(model, messages, options, stream, includeUsage);
    }

    /** {@code tools}, {@code tool_choice} (auto, none, required, or a named function) and {@code parallel_tool_calls}. */
    private static ToolOptions tools(JsonObject body, JsonFields fields) {
        List<ToolDefinition> definitions = ToolsJson.definitions(body.get("tools"), Refusal.OPENAI);
        Boolean parallel = fields.bool("parallel_tool_calls").orElse(null);
        JsonValue choice = body.get("tool_choice");
        ToolOptions.Choice mode = ToolOptions.Choice.AUTO;
        String function = null;
        if (choice instanceof JsonString s) {
            mode = switch (s.getString()) {
                case "auto" -> ToolOptions.Choice.AUTO;
                case "none" -> ToolOptions.Choice.NONE;
                case "required" -> ToolOptions.Choice.REQUIRED;
                default -> throw ApiException.badParam("tool_choice", "tool_choice must be auto, none, required or "
                        + "{type: function, function: {name}}, got " + s.getString());
            };
        } else if (choice instanceof JsonObject o) {
            if (!(o.get("function") instanceof JsonObject fn) || !(fn.get("name") instanceof JsonString name)) {
                throw ApiException.badParam("tool_choice", "tool_choice.function.name must name one of the tools");
            }
            mode = ToolOptions.Choice.FUNCTION;
            function = name.getString();
        } else if (choice != null && choice.getValueType() != JsonValue.ValueType.NULL) {
            throw ApiException.badParam("tool_choice", "tool_choice must be a string or an object");
        }
        if (mode != ToolOptions.Choice.AUTO && mode != ToolOptions.Choice.NONE && definitions.isEmpty()) {
            throw ApiException.badParam("tool_choice", "tool_choice " + choice + " needs tools");
        }
        try {
            return new ToolOptions(definitions, mode, function, parallel);
        } catch (IllegalArgumentException e) {
            throw ApiException.badParam("tool_choice", e.getMessage());
        }
    }

    /** {@code response_format}: text, a JSON object or a JSON schema (the engine refuses, 400, what it cannot enforce). */
    private static ResponseFormat format(JsonValue v) {
        try {
            return ResponseFormat.fromOpenAi(v);
        } catch (IllegalArgumentException e) {
            throw ApiException.badParam("response_format", e.getMessage());
        }
    }

    private static Integer maxTokens(JsonFields fields, String key) {
        return fields.integer(key).map(v -> {
            if (v < 1) {
                throw ApiException.badParam(key, key + " must be at least 1, got " + v);
            }
            return (int) Math.min(v, MAX_TOKENS);
        }).orElse(null);
    }

    private static Double number(JsonFields fields, String key, double min, double max) {
        return fields.number(key).map(v -> {
            if (v < min || v > max) {
                throw ApiException.badParam(key, key + " must be from " + min + " to " + max + ", got " + v);
            }
            return v;
        }).orElse(null);
    }

    /** The chat's messages; {@code developer} is the newer name of {@code system}, and both form the sink. */
    private static List<ChatMessage> messages(JsonObject body) {
        JsonValue v = body.get("messages");
        if (v == null || v.getValueType() != JsonValue.ValueType.ARRAY) {
            throw ApiException.badParam("messages", "messages must be an array of {role, content}");
        }
        List<ChatMessage> out = new ArrayList<>();
        ToolMessages tools = new ToolMessages(Refusal.OPENAI, true);
        for (JsonValue m : v.asJsonArray()) {
            String at = "messages[" + out.size() + "]";
            if (m.getValueType() != JsonValue.ValueType.OBJECT) {
                throw ApiException.badParam("messages", at + " must be an object {role, content}");
            }
            JsonFields message = JsonFields.of(m.asJsonObject(), at + ".");
            String role = message.requiredString("role");
            ChatMessage.Role r = role(role);
            if (r == null) {
                throw ApiException.badParam("messages", at + ".role " + role.toLowerCase(Locale.ROOT)
                        + " is not supported (system, developer, user, assistant and tool are)");
            }
            String content = content(m.asJsonObject().get("content"), at);
            out.add(switch (r) {
                case ASSISTANT -> tools.assistant(m.asJsonObject(), content, at);
                case TOOL -> tools.result(m.asJsonObject(), content, at);
                default -> new ChatMessage(r, content);
            });
        }
        if (out.isEmpty()) {
            throw ApiException.badParam("messages", "messages is empty");
        }
        return out;
    }

    /** A message's role, in any case; null when the API has no such role. */
    static ChatMessage.Role role(String wire) {
        return switch (wire.toLowerCase(Locale.ROOT)) {
            case "system", "developer" -> ChatMessage.Role.SYSTEM;
            case "user" -> ChatMessage.Role.USER;
            case "assistant" -> ChatMessage.Role.ASSISTANT;
            case "tool" -> ChatMessage.Role.TOOL;
            default -> null;
        };
    }

    /** A string, or an array of {@code {"type":"text","text"}} parts joined; null (an assistant's tool call) is empty. */
    private static String content(JsonValue v, String at) {
        if (v == null || v.getValueType() == JsonValue.ValueType.NULL) {
            return "";
        }
        if (v instanceof JsonString s) {
            return s.getString();
        }
        if (v.getValueType() != JsonValue.ValueType.ARRAY) {
            throw ApiException.badParam("messages", at + ".content must be a string or an array of text parts");
        }
        StringBuilder text = new StringBuilder();
        int i = 0;
        for (JsonValue part : v.asJsonArray()) {
            String partAt = at + ".content[" + i++ + "]";
            if (part.getValueType() != JsonValue.ValueType.OBJECT) {
                throw ApiException.badParam("messages", partAt + " must be an object {type, text}");
            }
            JsonFields fields = JsonFields.of(part.asJsonObject(), partAt + ".");
            String type = fields.requiredString("type");
            if (!type.equals("text")) {
                throw ApiException.badParam("messages", partAt + " is a " + type
                        + " part: only text parts are supported");
            }
            text.append(fields.requiredString("text"));
        }
        return text.toString();
    }

    /** {@code /v1/completions}' prompt: a string, or an array holding one string. */
    private static String prompt(JsonValue v) {
        if (v instanceof JsonString s) {
            return s.getString();
        }
        if (v != null && v.getValueType() == JsonValue.ValueType.ARRAY && v.asJsonArray().size() == 1
                && v.asJsonArray().get(0) instanceof JsonString s) {
            return s.getString();
        }
        throw ApiException.badParam("prompt", "prompt must be a string (or an array of one string; token arrays and "
                + "several prompts are not supported)");
    }
}
