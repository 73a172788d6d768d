package io.streamingllm.core.engine;

import jakarta.json.Json;
import jakarta.json.JsonException;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;

import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;

/**
 * A model's request to call a tool: OpenAI's {@code tool_calls[]} entry, Ollama's {@code message.tool_calls[]}.
 *
 * @param id        the call's id (OpenAI's own; made by {@link #stableId} for Ollama, which has none) that the
 *                  {@code tool} message answering it names
 * @param name      the function's name
 * @param arguments the arguments as JSON object text (OpenAI sends a string, Ollama an object: one form here)
 */
public record ToolCall(String id, String name, String arguments) {
    public ToolCall {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(arguments, "arguments");
    }

    /** The arguments as an object; throws {@link IllegalArgumentException} when they are not a JSON object. */
    public JsonObject argumentsObject() {
        return parseArguments(arguments);
    }

    /** Parses tool-call arguments; throws {@link IllegalArgumentException} when the text is not a JSON object. */
    public static JsonObject parseArguments(String text) {
        String t = text == null || text.isBlank() ? "{}" : text;
        try (JsonReader r = Json.createReader(new StringReader(t))) {
            return r.readObject();
        } catch (JsonException | IllegalStateException e) {
            throw new IllegalArgumentException("arguments are not a JSON object: "
                    + (t.length() > 120 ? t.substring(0, 120) + "…" : t));
        }
    }

    /**
     * An id for a call whose upstream gave none: the same call at the same place always gets the same id, so an id
     * handed to a client, logged, and sent back with the result still matches after a restart.
     */
    public static String stableId(int index, String name, String arguments) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update((index + "\u0000" + name + "\u0000" + arguments).getBytes(StandardCharsets.UTF_8));
            return "call_" + HexFormat.of().formatHex(sha.digest(), 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }
}
