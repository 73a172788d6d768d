package io.streamingllm.core.engine;

import jakarta.json.JsonObject;
import jakarta.json.JsonValue;

import java.util.Objects;

/**
 * A function the model may call: OpenAI's and Ollama's {@code tools[]} entry of type {@code function}.
 *
 * @param parameters the JSON schema of its arguments (an empty object when the tool takes none)
 */
public record ToolDefinition(String name, String description, JsonObject parameters) {
    public ToolDefinition {
        Objects.requireNonNull(name, "name");
        if (name.isBlank()) {
            throw new IllegalArgumentException("a tool's name must not be blank");
        }
        description = description == null ? "" : description;
        parameters = parameters == null ? JsonValue.EMPTY_JSON_OBJECT : parameters;
    }
}
