package io.streamingllm.core.engine.openai;

import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.EngineException.Kind;
import io.streamingllm.core.engine.http.TransportFailures;
import jakarta.json.Json;
import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonReaderFactory;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.io.ByteArrayInputStream;
import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Map;

/**
 * An OpenAI-compatible server's failures as typed {@link EngineException}s whose messages say what to do. The error
 * bodies of OpenAI and newer vLLM ({@code {"error":{"message","type","param","code"}}}), llama-server (the same with
 * {@code type: exceed_context_size_error}) and older vLLM ({@code {"object":"error","message",…}} at the top level) are
 * all read. The API key is cut out of every text an upstream sends back, so no message ever carries it. Immutable.
 */
final class OpenAiErrors {
    private static final JsonReaderFactory READERS = Json.createReaderFactory(Map.of());
    private static final int MAX_SHOWN = 300;
    private static final String KEY_SHOWN = "[API key]";

    private final String base;
    private final String model;
    private final String apiKey;

    /** @param apiKey the configured key, empty for none: only used to cut it out of upstream texts */
    OpenAiErrors(String base, String model, String apiKey) {
        this.base = base;
        this.model = model;
        this.apiKey = apiKey;
    }

    String base() {
        return base;
    }

    /** One upstream error: what its body said, and the fields that type it. */
    record UpstreamError(String message, String type, String code) {
        String all() {
            return (message + " " + type + " " + code).toLowerCase(Locale.ROOT);
        }
    }

    EngineException unreachable(Throwable e) {
        return new EngineException(Kind.UNREACHABLE, "the OpenAI-compatible server is not reachable at " + base + " ("
                + TransportFailures.describe(e) + "): start it (llama-server, vLLM, …) or set STREAMING_LLM_OPENAI_URL", e);
    }

    /**
     * A non-200 answer to a call for {@code model} ({@code what} names the call, e.g. {@code POST /chat/completions}).
     *
     * @param retryAfter what the {@code Retry-After} header said, null when absent
     */
    EngineException httpError(int status, byte[] body, String what, String model, Duration retryAfter) {
        UpstreamError err = parse(body);
        String said = " (the server said: " + err.message() + ")";
        if (status == 401 || status == 403) {
            return new EngineException(Kind.AUTH, "the OpenAI-compatible server at " + base + " refused the API key (HTTP "
                    + status + " to " + what + "): check STREAMING_LLM_OPENAI_API_KEY" + said);
        }
        if (status == 404) {
            if (err.all().contains("model")) {
                return new EngineException(Kind.MODEL_NOT_FOUND, "model " + model + " is not served by the OpenAI-compatible"
                        + " server at " + base + ": name one GET " + base + "/models lists" + said);
            }
            return new EngineException(Kind.UPSTREAM_ERROR, base + " answered HTTP 404 to " + what
                    + ": is STREAMING_LLM_OPENAI_URL the server's base URL ending in /v1?" + said);
        }
        if (status == 429) {
            return new EngineException(Kind.RATE_LIMITED, "the OpenAI-compatible server at " + base + " is rate limiting (HTTP 429"
                    + (retryAfter == null ? "" : ", retry after " + retryAfter.toSeconds() + " s") + ")" + said, retryAfter);
        }
        if (status == 413 || status == 400 && isContextLength(err)) {
            return contextLength(err);
        }
        if (status >= 400 && status < 500) {
            return new EngineException(Kind.BAD_REQUEST, "the OpenAI-compatible server at " + base + " rejected the request (HTTP "
                    + status + "): " + err.message());
        }
        return new EngineException(Kind.UPSTREAM_ERROR, "the OpenAI-compatible server at " + base + " answered HTTP " + status
                + " to " + what + ": " + err.message());
    }

    /** An {@code {"error":…}} record inside the event stream (vLLM sends one when generation fails midway). */
    EngineException streamError(UpstreamError err) {
        if (isContextLength(err)) {
            return contextLength(err);
        }
        return new EngineException(Kind.UPSTREAM_ERROR, "the OpenAI-compatible server at " + base
                + " failed while generating: " + err.message());
    }

    private EngineException contextLength(UpstreamError err) {
        return new EngineException(Kind.CONTEXT_LENGTH, "the prompt does not fit the context of model " + model + " at " + base
                + ": lower STREAMING_LLM_RECENT_SIZE or give the server a larger context (the server said: "
                + err.message() + ")");
    }

    /** vLLM "maximum context length", llama-server {@code exceed_context_size_error}, OpenAI {@code context_length_exceeded}. */
    static boolean isContextLength(UpstreamError err) {
        String all = err.all();
        return all.contains("context_length_exceeded") || all.contains("exceed_context_size")
                || all.contains("maximum context length") || all.contains("context size")
                || all.contains("context length") || all.contains("context window");
    }

    /** The error a body carries, in any of the shapes above; a plain-text body is its own message (bounded). */
    UpstreamError parse(byte[] body) {
        try (JsonReader reader = READERS.createReader(new ByteArrayInputStream(body), StandardCharsets.UTF_8)) {
            if (reader.readValue() instanceof JsonObject o) {
                UpstreamError e = fromObject(o);
                if (e != null) {
                    return e;
                }
            }
        } catch (JsonException | IllegalStateException e) {
            // not JSON: the text itself
        }
        String text = new String(body, StandardCharsets.UTF_8).strip();
        return new UpstreamError(text.isEmpty() ? "(empty body)" : shown(text), "", "");
    }

    /** {@code {"error":{…}}}, {@code {"error":"text"}} or a top-level {@code message}; null when none. */
    UpstreamError fromObject(JsonObject o) {
        JsonValue e = o.get("error");
        if (e instanceof JsonObject eo) {
            return new UpstreamError(shown(text(eo.get("message"))), text(eo.get("type")), text(eo.get("code")));
        }
        if (e instanceof JsonString s) {
            return new UpstreamError(shown(s.getString()), "", "");
        }
        if (o.get("message") instanceof JsonString m) {
            return new UpstreamError(shown(m.getString()), text(o.get("type")), text(o.get("code")));
        }
        return null;
    }

    private static String text(JsonValue v) {
        if (v instanceof JsonString s) {
            return s.getString();
        }
        if (v instanceof JsonNumber n) {
            return n.toString();
        }
        return "";
    }

    /** Bounded, one line, and without the API key (some servers quote the key they refused). */
    String shown(String text) {
        String t = redact(text).replace('\n', ' ').replace('\r', ' ').strip();
        if (t.isEmpty()) {
            return "(no message)";
        }
        return t.length() > MAX_SHOWN ? t.substring(0, MAX_SHOWN) + "…" : t;
    }

    String redact(String text) {
        return apiKey.isEmpty() || text == null ? text : text.replace(apiKey, KEY_SHOWN);
    }

    /**
     * {@code Retry-After} as seconds or an HTTP date, or OpenAI's {@code retry-after-ms}; null when absent or unreadable.
     */
    static Duration retryAfter(HttpHeaders headers) {
        String ms = headers.firstValue("retry-after-ms").orElse(null);
        if (ms != null) {
            try {
                return Duration.ofMillis(Math.max(0, (long) Double.parseDouble(ms.trim())));
            } catch (NumberFormatException e) {
                // fall back to Retry-After
            }
        }
        String v = headers.firstValue("retry-after").orElse(null);
        if (v == null || v.isBlank()) {
            return null;
        }
        try {
            return Duration.ofSeconds(Math.max(0, Long.parseLong(v.trim())));
        } catch (NumberFormatException e) {
            try {
                Instant at = ZonedDateTime.parse(v.trim(), DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                Duration d = Duration.between(Instant.now(), at);
                return d.isNegative() ? Duration.ZERO : d;
            } catch (DateTimeParseException notADate) {
                return null;
            }
        }
    }
}
