package io.streamingllm.core.engine.ollama;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.Embeddings;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.EngineHealth;
import io.streamingllm.core.engine.Generation;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.ModelInfo;
import io.streamingllm.core.engine.TokenListener;
import io.streamingllm.core.engine.http.EngineArgs;
import io.streamingllm.core.engine.http.NdjsonBody;
import io.streamingllm.core.engine.http.StreamingHttp;
import io.streamingllm.core.engine.http.UpstreamRequest;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonException;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonReaderFactory;
import jakarta.json.JsonValue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;

/**
 * Streams generations from an Ollama server ({@code POST /api/chat}, NDJSON).
 * Each {@code message.content} delta reaches the listener as soon as its line arrives. A cancel aborts the
 * HTTP exchange (before or after the response headers), so Ollama sees the connection close and stops
 * generating. Failures complete the result with a typed {@link EngineException} whose message says
 * what to do. Streamed chat calls go through one {@link StreamingHttp} per engine, the other calls through one
 * {@link HttpClient}.
 *
 * <p>Each call's response is parsed on the call's own virtual thread: listeners are called there and should not block
 * (the server's listeners only enqueue). Results complete on a virtual thread of their own.
 */
public final class OllamaEngine implements ModelEngine {
    private static final JsonReaderFactory READERS = Json.createReaderFactory(Map.of());
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration HEALTH_TIMEOUT = Duration.ofSeconds(3);
    private static final Duration FORWARD_TIMEOUT = Duration.ofSeconds(30);

    private final String base;
    private final URI chatUri;
    private final String model;
    private final long idleTimeoutNanos;
    private final int maxLineBytes;
    private final HttpClient http;
    /** The streamed chat calls' transport; {@link #http} serves the rest (tags, forwarded calls). */
    private final StreamingHttp streaming;
    private final ScheduledExecutorService watchdog;
    private final OllamaErrors errors;

    /**
     * @param baseUri          Ollama base URL, e.g. {@code http://127.0.0.1:11434}
     * @param model            model name as the user gave it ({@code NAME[:TAG]})
     * @param tokenIdleTimeout longest wait for the response headers or the next record before the call
     *                         fails with {@link EngineException.Kind#TIMEOUT} and is aborted
     */
    public OllamaEngine(URI baseUri, String model, Duration tokenIdleTimeout) {
        this(baseUri, model, tokenIdleTimeout, NdjsonBody.DEFAULT_MAX_LINE_BYTES);
    }

    /**
     * @param maxLineBytes longest line of a streamed answer; a longer one fails the turn with
     *                     {@link EngineException.Kind#PROTOCOL} without being held in memory
     */
    public OllamaEngine(URI baseUri, String model, Duration tokenIdleTimeout, int maxLineBytes) {
        String b = EngineArgs.base(baseUri, "Ollama URL must be http(s)://HOST[:PORT]");
        this.model = EngineArgs.model(model);
        this.idleTimeoutNanos = EngineArgs.idleTimeoutNanos(tokenIdleTimeout);
        this.base = b;
        this.chatUri = URI.create(b + "/api/chat");
        this.maxLineBytes = maxLineBytes;
        this.errors = new OllamaErrors(b, model);
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(CONNECT_TIMEOUT)
                .build();
        this.streaming = StreamingHttp.forUri(chatUri, CONNECT_TIMEOUT);
        this.watchdog = EngineArgs.timers("ollama-idle-watchdog");
    }

    /** Timers still queued (idle and drain checks); a settled generation leaves none behind. For tests. */
    int pendingTimers() {
        return ((ScheduledThreadPoolExecutor) watchdog).getQueue().size();
    }

    @Override
    public String engineName() {
        return "ollama";
    }

    @Override
    public String model() {
        return model;
    }

    /** The base URL calls go to, without a trailing slash. */
    public String baseUrl() {
        return base;
    }

    @Override
    public Generation generate(List<ChatMessage> messages, GenerationOptions options, TokenListener listener) {
        Objects.requireNonNull(listener, "listener");
        GenerationOptions o = options == null ? GenerationOptions.DEFAULTS : options;
        // Ollama serves every model it has pulled: the one a request names, else the configured one
        String requested = o.model() == null || o.model().isBlank() ? model : o.model();
        ChatRequestJson body = ChatRequestJson.write(requested, messages, o);
        UpstreamRequest request = body.request(chatUri, "Content-Type", "application/json",
                "Accept", "application/x-ndjson");
        OllamaErrors callErrors = requested.equals(model) ? errors : new OllamaErrors(base, requested);
        OllamaGeneration generation = new OllamaGeneration(streaming, watchdog, callErrors, idleTimeoutNanos, maxLineBytes,
                listener);
        generation.start(request);
        return generation;
    }

    @Override
    public EngineHealth health() {
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/api/tags"))
                .timeout(HEALTH_TIMEOUT).GET().build();
        HttpResponse<byte[]> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new EngineHealth(EngineHealth.Status.ERROR, "probe of Ollama at " + base + " was interrupted");
        } catch (IOException | RuntimeException e) {
            return new EngineHealth(EngineHealth.Status.UNREACHABLE, "Ollama is not reachable at " + base + " (" + OllamaErrors.describe(e)
                    + "): start Ollama at " + base + " (`ollama serve`), or run without it: STREAMING_LLM_MODEL=echo or gguf:/path/model.gguf");
        }
        if (response.statusCode() != 200) {
            return new EngineHealth(EngineHealth.Status.ERROR, "Ollama at " + base + " answered GET /api/tags with HTTP "
                    + response.statusCode() + ": " + OllamaErrors.errorMessage(response.body()));
        }
        try (JsonReader reader = READERS.createReader(new ByteArrayInputStream(response.body()), StandardCharsets.UTF_8)) {
            JsonObject tags = reader.readObject();
            String wanted = withTag(model);
            for (JsonValue v : tags.getJsonArray("models")) {
                JsonObject m = v.asJsonObject();
                if (wanted.equals(withTag(m.getString("name", ""))) || wanted.equals(withTag(m.getString("model", "")))) {
                    return EngineHealth.ready("Ollama at " + base + " serves " + model);
                }
            }
            return new EngineHealth(EngineHealth.Status.MODEL_MISSING, "model " + model + " is not pulled in Ollama at " + base
                    + ": run `ollama pull " + model + "`");
        } catch (JsonException | ClassCastException | NullPointerException e) {
            return new EngineHealth(EngineHealth.Status.ERROR, "Ollama at " + base + " answered GET /api/tags with something that is not its model list");
        }
    }

    /** Ollama's pulled models ({@code GET /api/tags}). */
    @Override
    public List<ModelInfo> models() {
        UpstreamResponse r = forward("GET", "/api/tags", null);
        if (r.status() != 200) {
            throw new EngineException(EngineException.Kind.UPSTREAM_ERROR, "Ollama at " + base
                    + " answered GET /api/tags with HTTP " + r.status() + ": " + OllamaErrors.errorMessage(r.body()));
        }
        List<ModelInfo> out = new ArrayList<>();
        try (JsonReader reader = READERS.createReader(new ByteArrayInputStream(r.body()), StandardCharsets.UTF_8)) {
            for (JsonValue v : reader.readObject().getJsonArray("models")) {
                JsonObject m = v.asJsonObject();
                String name = m.getString("name", m.getString("model", ""));
                if (!name.isEmpty()) {
                    out.add(new ModelInfo(name, epochSeconds(m.getString("modified_at", "")), "ollama"));
                }
            }
        } catch (JsonException | ClassCastException | NullPointerException e) {
            throw new EngineException(EngineException.Kind.PROTOCOL, "Ollama at " + base
                    + " answered GET /api/tags with something that is not its model list");
        }
        return out;
    }

    /** Ollama's {@code POST /api/embed}. */
    @Override
    public Embeddings embed(String embedModel, List<String> inputs) {
        String name = embedModel == null || embedModel.isBlank() ? model : embedModel;
        JsonArrayBuilder input = Json.createArrayBuilder();
        inputs.forEach(input::add);
        byte[] body = Json.createObjectBuilder().add("model", name).add("input", input).build().toString()
                .getBytes(StandardCharsets.UTF_8);
        UpstreamResponse r = forward("POST", "/api/embed", body);
        if (r.status() != 200) {
            String said = OllamaErrors.errorMessage(r.body());
            if (r.status() == 404) {
                throw new EngineException(EngineException.Kind.MODEL_NOT_FOUND, "model " + name
                        + " is not available in Ollama at " + base + ": run `ollama pull " + name + "` (Ollama said: "
                        + said + ")");
            }
            // 400: e.g. a model that does not embed; the client's request, not the upstream, is at fault
            throw new EngineException(r.status() == 400 ? EngineException.Kind.BAD_REQUEST
                    : EngineException.Kind.UPSTREAM_ERROR, "Ollama at " + base + " refused to embed with " + name
                    + " (HTTP " + r.status() + "): " + said);
        }
        try (JsonReader reader = READERS.createReader(new ByteArrayInputStream(r.body()), StandardCharsets.UTF_8)) {
            JsonObject o = reader.readObject();
            List<float[]> vectors = new ArrayList<>();
            for (JsonArray v : o.getJsonArray("embeddings").getValuesAs(JsonArray.class)) {
                float[] f = new float[v.size()];
                for (int i = 0; i < f.length; i++) {
                    f[i] = (float) v.getJsonNumber(i).doubleValue();
                }
                vectors.add(f);
            }
            return new Embeddings(o.getString("model", name), vectors, o.getInt("prompt_eval_count", 0));
        } catch (JsonException | ClassCastException | NullPointerException e) {
            throw new EngineException(EngineException.Kind.PROTOCOL, "Ollama at " + base
                    + " answered POST /api/embed with something that is not embeddings");
        }
    }

    private static long epochSeconds(String timestamp) {
        try {
            return OffsetDateTime.parse(timestamp).toEpochSecond();
        } catch (DateTimeParseException e) {
            return 0;
        }
    }

    /** {@code NAME} and {@code NAME:latest} name the same model. */
    static String withTag(String name) {
        int slash = name.lastIndexOf('/');
        return name.indexOf(':', slash + 1) >= 0 ? name : name + ":latest";
    }

    /**
     * Relays one request to Ollama as is (for {@code /api/tags}, {@code /api/show}, {@code /api/version}).
     *
     * @param method {@code GET} or {@code POST}
     * @param path   absolute path under the base URL, e.g. {@code /api/show}
     * @param body   request body, null or empty for none
     * @throws EngineException {@code UNREACHABLE} when Ollama cannot be reached, {@code TIMEOUT} when it does
     *                         not answer within 30 s
     */
    public UpstreamResponse forward(String method, String path, byte[] body) {
        if (path == null || !path.startsWith("/") || path.contains("..") || path.startsWith("//")) {
            throw new IllegalArgumentException("not an upstream path: " + path);
        }
        HttpRequest.BodyPublisher publisher = body == null || body.length == 0
                ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body);
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base + path))
                .timeout(FORWARD_TIMEOUT)
                .method(method, publisher);
        if (body != null && body.length > 0) {
            builder.header("Content-Type", "application/json");
        }
        try {
            HttpResponse<byte[]> r = http.send(builder.build(), HttpResponse.BodyHandlers.ofByteArray());
            return new UpstreamResponse(r.statusCode(),
                    r.headers().firstValue("Content-Type").orElse("application/json"), r.body());
        } catch (HttpConnectTimeoutException e) {
            throw errors.unreachable(e);
        } catch (HttpTimeoutException e) {
            throw new EngineException(EngineException.Kind.TIMEOUT, "Ollama at " + base + " did not answer " + method + " "
                    + path + " within " + FORWARD_TIMEOUT.toSeconds() + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException(EngineException.Kind.INTERNAL, "interrupted while calling Ollama", e);
        } catch (IOException e) {
            throw OllamaErrors.isUnreachable(e) ? errors.unreachable(e)
                    : new EngineException(EngineException.Kind.DROPPED, "Ollama at " + base + " closed the connection ("
                    + OllamaErrors.describe(e) + ")", e);
        }
    }

    @Override
    public void close() {
        streaming.close();
        http.shutdownNow();
        watchdog.shutdownNow();
    }
}
