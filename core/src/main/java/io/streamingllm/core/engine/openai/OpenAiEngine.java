package io.streamingllm.core.engine.openai;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.Embeddings;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.EngineException.Kind;
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
import io.streamingllm.core.engine.http.TransportFailures;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonReaderFactory;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Streams generations from an OpenAI-compatible server (llama-server, vLLM, SGLang, LM Studio, a hosted API):
 * {@code POST {base}/chat/completions} with {@code stream: true}, read as server-sent events over
 * {@link StreamingHttp}, with the Ollama engine's threading, cancel and idle-timeout behaviour. {@code GET {base}/models}
 * answers {@link #models()} and {@link #health()}; {@code POST {base}/embeddings} answers {@link #embed}. The API key
 * goes out as {@code Authorization: Bearer …} and nowhere else: not in a message, a log line or {@link #toString()}.
 */
public final class OpenAiEngine implements ModelEngine {
    /** The longest {@code Retry-After} of a 429 that is waited out (once) before the first token. */
    public static final Duration MAX_RETRY_WAIT = Duration.ofSeconds(5);
    private static final JsonReaderFactory READERS = Json.createReaderFactory(Map.of());
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration HEALTH_TIMEOUT = Duration.ofSeconds(3);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(60);

    private final String base;
    private final URI chatUri;
    private final String model;
    private final String apiKey;
    private final long idleTimeoutNanos;
    private final Duration maxRetryWait;
    private final int maxLineBytes;
    private final HttpClient http;
    /** The streamed chat calls' transport; {@link #http} serves the rest (models, embeddings, health). */
    private final StreamingHttp streaming;
    private final ScheduledExecutorService watchdog;
    private final OpenAiErrors errors;

    /**
     * @param baseUri          the server's base URL, ending in {@code /v1} (e.g. {@code http://127.0.0.1:8080/v1})
     * @param model            the model requests name unless they name their own
     * @param apiKey           sent as a Bearer token; null or empty for none
     * @param tokenIdleTimeout longest wait for the response headers or the next event before the call fails with
     *                         {@link Kind#TIMEOUT} and is aborted
     */
    public OpenAiEngine(URI baseUri, String model, String apiKey, Duration tokenIdleTimeout) {
        this(baseUri, model, apiKey, tokenIdleTimeout, MAX_RETRY_WAIT, NdjsonBody.DEFAULT_MAX_LINE_BYTES);
    }

    /**
     * As above, with the longest {@code Retry-After} waited out before a 429 fails the call, and the longest line
     * of a streamed answer ({@code STREAMING_LLM_MAX_UPSTREAM_LINE_KB}): a longer one fails the turn unread.
     */
    public OpenAiEngine(URI baseUri, String model, String apiKey, Duration tokenIdleTimeout, Duration maxRetryWait,
                        int maxLineBytes) {
        String b = EngineArgs.base(baseUri, "OpenAI base URL must be http(s)://HOST[:PORT]/v1");
        this.model = EngineArgs.model(model);
        this.idleTimeoutNanos = EngineArgs.idleTimeoutNanos(tokenIdleTimeout);
        this.base = b;
        this.chatUri = URI.create(b + "/chat/completions");
        this.apiKey = apiKey == null ? "" : apiKey.strip();
        this.maxRetryWait = Objects.requireNonNull(maxRetryWait, "maxRetryWait");
        this.maxLineBytes = maxLineBytes;
        this.errors = new OpenAiErrors(b, model, this.apiKey);
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(CONNECT_TIMEOUT)
                .build();
        this.streaming = StreamingHttp.forUri(chatUri, CONNECT_TIMEOUT);
        this.watchdog = EngineArgs.timers("openai-idle-watchdog");
    }

    @Override
    public String engineName() {
        return "openai";
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
    public String toString() {
        return "OpenAiEngine[" + base + ", model " + model + (apiKey.isEmpty() ? "" : ", API key set") + "]";
    }

    @Override
    public Generation generate(List<ChatMessage> messages, GenerationOptions options, TokenListener listener) {
        Objects.requireNonNull(listener, "listener");
        GenerationOptions o = options == null ? GenerationOptions.DEFAULTS : options;
        String wanted = o.model() == null || o.model().isBlank() ? model : o.model();
        byte[] body = ChatCompletionRequest.write(wanted, messages, o);
        UpstreamRequest request = apiKey.isEmpty()
                ? UpstreamRequest.post(chatUri, body, "Content-Type", "application/json", "Accept", "text/event-stream")
                : UpstreamRequest.post(chatUri, body, "Content-Type", "application/json", "Accept", "text/event-stream",
                        "Authorization", "Bearer " + apiKey);
        OpenAiGeneration generation = new OpenAiGeneration(streaming, watchdog, errors, wanted, idleTimeoutNanos, maxRetryWait,
                maxLineBytes, listener);
        generation.start(request);
        return generation;
    }

    @Override
    public List<ModelInfo> models() {
        JsonObject list = call("GET", "/models", null, model);
        List<ModelInfo> models = new ArrayList<>();
        try {
            for (JsonValue v : list.getJsonArray("data")) {
                JsonObject m = v.asJsonObject();
                models.add(new ModelInfo(m.getString("id"), m.get("created") instanceof JsonNumber n ? n.longValue() : 0,
                        m.get("owned_by") instanceof JsonString s ? s.getString() : ""));
            }
        } catch (ClassCastException | NullPointerException e) {
            throw new EngineException(Kind.PROTOCOL, base + " answered GET /models with something that is not a model list");
        }
        return models;
    }

    @Override
    public Embeddings embed(String embedModel, List<String> inputs) {
        String wanted = embedModel == null || embedModel.isBlank() ? model : embedModel;
        JsonObject request = Json.createObjectBuilder()
                .add("model", wanted)
                .add("input", Json.createArrayBuilder(inputs))
                .add("encoding_format", "float")
                .build();
        JsonObject answer = call("POST", "/embeddings", request.toString().getBytes(StandardCharsets.UTF_8), wanted);
        try {
            JsonArray data = answer.getJsonArray("data");
            float[][] vectors = new float[inputs.size()][];
            for (int i = 0; i < data.size(); i++) {
                JsonObject item = data.getJsonObject(i);
                int index = item.getInt("index", i);
                JsonArray values = item.getJsonArray("embedding");
                float[] vector = new float[values.size()];
                for (int j = 0; j < vector.length; j++) {
                    vector[j] = (float) values.getJsonNumber(j).doubleValue();
                }
                vectors[index] = vector;
            }
            for (float[] v : vectors) {
                Objects.requireNonNull(v, "an input without its embedding");
            }
            int tokens = answer.get("usage") instanceof JsonObject u ? u.getInt("prompt_tokens", 0) : 0;
            return new Embeddings(answer.getString("model", wanted), List.of(vectors), tokens);
        } catch (ClassCastException | NullPointerException | IndexOutOfBoundsException e) {
            throw new EngineException(Kind.PROTOCOL, base + " answered POST /embeddings with something that is not"
                    + " one embedding per input");
        }
    }

    @Override
    public EngineHealth health() {
        HttpRequest request = request(URI.create(base + "/models")).timeout(HEALTH_TIMEOUT).GET().build();
        HttpResponse<byte[]> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new EngineHealth(EngineHealth.Status.ERROR, "probe of " + base + " was interrupted");
        } catch (IOException | RuntimeException e) {
            return new EngineHealth(EngineHealth.Status.UNREACHABLE, errors.unreachable(e).getMessage());
        }
        int status = response.statusCode();
        if (status == 401 || status == 403) {
            return new EngineHealth(EngineHealth.Status.ERROR, "the OpenAI-compatible server at " + base
                    + " refused the API key (HTTP " + status + " to GET /models): check STREAMING_LLM_OPENAI_API_KEY");
        }
        if (status != 200) {
            return new EngineHealth(EngineHealth.Status.ERROR, "the OpenAI-compatible server at " + base
                    + " answered GET /models with HTTP " + status + ": " + errors.parse(response.body()).message());
        }
        List<String> ids = new ArrayList<>();
        try (JsonReader reader = READERS.createReader(new ByteArrayInputStream(response.body()), StandardCharsets.UTF_8)) {
            for (JsonValue v : reader.readObject().getJsonArray("data")) {
                ids.add(v.asJsonObject().getString("id"));
            }
        } catch (JsonException | ClassCastException | NullPointerException | IllegalStateException e) {
            return new EngineHealth(EngineHealth.Status.ERROR, base + " answered GET /models with something that is not"
                    + " a model list: is STREAMING_LLM_OPENAI_URL the server's base URL ending in /v1?");
        }
        if (ids.contains(model)) {
            return EngineHealth.ready("the OpenAI-compatible server at " + base + " serves " + model);
        }
        return new EngineHealth(EngineHealth.Status.MODEL_MISSING, "model " + model + " is not served by " + base
                + " (it serves " + (ids.isEmpty() ? "no model" : String.join(", ", ids.subList(0, Math.min(ids.size(), 10))))
                + "): set STREAMING_LLM_MODEL=openai:NAME to one of them");
    }

    /** A blocking JSON call; typed failures as for generations. */
    private JsonObject call(String method, String path, byte[] body, String forModel) {
        HttpRequest.Builder builder = request(URI.create(base + path)).timeout(CALL_TIMEOUT);
        if (body == null) {
            builder.GET();
        } else {
            builder.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(body));
        }
        HttpResponse<byte[]> r;
        try {
            r = http.send(builder.build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (HttpTimeoutException e) {
            throw TransportFailures.isUnreachable(e) ? errors.unreachable(e)
                    : new EngineException(Kind.TIMEOUT, base + " did not answer " + method + " " + path + " within "
                    + CALL_TIMEOUT.toSeconds() + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException(Kind.INTERNAL, "interrupted while calling " + base, e);
        } catch (IOException e) {
            throw TransportFailures.isUnreachable(e) ? errors.unreachable(e)
                    : new EngineException(Kind.DROPPED, base + " closed the connection of " + method + " " + path + " ("
                    + errors.redact(TransportFailures.describe(e)) + ")", e);
        }
        if (r.statusCode() != 200) {
            throw errors.httpError(r.statusCode(), r.body(), method + " " + path, forModel,
                    OpenAiErrors.retryAfter(r.headers()));
        }
        try (JsonReader reader = READERS.createReader(new ByteArrayInputStream(r.body()), StandardCharsets.UTF_8)) {
            return reader.readObject();
        } catch (JsonException | IllegalStateException e) {
            throw new EngineException(Kind.PROTOCOL, base + " answered " + method + " " + path + " with something that is"
                    + " not a JSON object");
        }
    }

    private HttpRequest.Builder request(URI uri) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri);
        if (!apiKey.isEmpty()) {
            b.header("Authorization", "Bearer " + apiKey);
        }
        return b;
    }

    @Override
    public void close() {
        streaming.close();
        http.shutdownNow();
        watchdog.shutdownNow();
    }
}
