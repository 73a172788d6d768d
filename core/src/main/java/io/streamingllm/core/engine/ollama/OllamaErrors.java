package io.streamingllm.core.engine.ollama;

import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.http.TransportFailures;
import jakarta.json.Json;
import jakarta.json.JsonException;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonReaderFactory;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;

/**
 * Ollama's failures as typed {@link EngineException}s whose messages say what to do (start Ollama, pull the model),
 * and the one-line descriptions of transport failures they quote. Immutable.
 */
final class OllamaErrors {
    private static final JsonReaderFactory READERS = Json.createReaderFactory(Map.of());

    private final String base;
    private final String model;

    OllamaErrors(String base, String model) {
        this.base = base;
        this.model = model;
    }

    /** The base URL, for messages. */
    String base() {
        return base;
    }

    EngineException unreachable(Throwable e) {
        return new EngineException(EngineException.Kind.UNREACHABLE, "Ollama is not reachable at " + base + " ("
                + describe(e) + "): start Ollama at " + base + " (`ollama serve`) or set STREAMING_LLM_OLLAMA_URL", e);
    }

    EngineException httpError(int status, byte[] body) {
        String message = errorMessage(body);
        if (status == 404 || isModelNotFound(message)) {
            return new EngineException(EngineException.Kind.MODEL_NOT_FOUND, "model " + model + " is not available in Ollama at "
                    + base + ": run `ollama pull " + model + "` (Ollama said: " + message + ")");
        }
        return new EngineException(EngineException.Kind.UPSTREAM_ERROR, "Ollama at " + base + " answered HTTP " + status
                + ": " + message);
    }

    EngineException errorRecord(String message) {
        if (isModelNotFound(message)) {
            return new EngineException(EngineException.Kind.MODEL_NOT_FOUND, "model " + model + " is not available in Ollama at "
                    + base + ": run `ollama pull " + model + "` (Ollama said: " + message + ")");
        }
        return new EngineException(EngineException.Kind.UPSTREAM_ERROR, "Ollama failed while generating: " + message);
    }

    private static boolean isModelNotFound(String message) {
        String m = message.toLowerCase(Locale.ROOT);
        return m.contains("model") && m.contains("not found");
    }

    /** Ollama's {@code {"error": "..."}} text, else the body itself (trimmed, bounded). */
    static String errorMessage(byte[] body) {
        try (JsonReader reader = READERS.createReader(new ByteArrayInputStream(body), StandardCharsets.UTF_8)) {
            JsonValue v = reader.readValue();
            if (v instanceof JsonObject o && o.get("error") instanceof JsonString s) {
                return s.getString();
            }
        } catch (JsonException | IllegalStateException e) {
            // not JSON: fall through to the raw text
        }
        String text = new String(body, StandardCharsets.UTF_8).strip();
        if (text.isEmpty()) {
            return "(empty body)";
        }
        return text.length() > 300 ? text.substring(0, 300) + "…" : text;
    }

    static boolean isUnreachable(Throwable e) {
        return TransportFailures.isUnreachable(e);
    }

    static String describe(Throwable e) {
        return TransportFailures.describe(e);
    }
}
