package io.streamingllm.core.engine;

import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonBuilderFactory;
import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonReader;
import jakarta.json.JsonReaderFactory;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringReader;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Streams generations from an Ollama server ({@code POST /api/chat}, NDJSON) over {@code java.net.http}.
 * Each {@code message.content} delta reaches the sink as soon as its line arrives. A cancel aborts the
 * HTTP exchange (before or after the response headers), so Ollama sees the connection close and stops
 * generating. Failures complete the result with a typed {@link EngineException} whose message says
 * what to do. One {@link HttpClient} serves all calls of an engine.
 */
public final class OllamaEngine implements ModelEngine {
    private static final JsonReaderFactory READERS = Json.createReaderFactory(Map.of());
    private static final JsonBuilderFactory BUILDERS = Json.createBuilderFactory(Map.of());
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration HEALTH_TIMEOUT = Duration.ofSeconds(3);
    private static final Duration FORWARD_TIMEOUT = Duration.ofSeconds(30);
    private static final int MAX_ERROR_BODY = 64 * 1024;
    private static final Duration DRAIN_GRACE = Duration.ofSeconds(1);

    private final String base;
    private final String model;
    private final long idleTimeoutNanos;
    private final HttpClient http;
    private final ScheduledExecutorService watchdog;

    /**
     * @param baseUri          Ollama base URL, e.g. {@code http://127.0.0.1:11434}
     * @param model            model name as the user gave it ({@code NAME[:TAG]})
     * @param tokenIdleTimeout longest wait for the response headers or the next record before the call
     *                         fails with {@link EngineException.Kind#TIMEOUT} and is aborted
     */
    public OllamaEngine(URI baseUri, String model, Duration tokenIdleTimeout) {
        Objects.requireNonNull(baseUri, "baseUri");
        String scheme = baseUri.getScheme() == null ? "" : baseUri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https") || baseUri.getHost() == null) {
            throw new IllegalArgumentException("Ollama URL must be http(s)://HOST[:PORT], got " + baseUri);
        }
        if (model == null || model.isBlank()) {
            throw new IllegalArgumentException("model name is empty");
        }
        if (tokenIdleTimeout == null || tokenIdleTimeout.isNegative() || tokenIdleTimeout.isZero()) {
            throw new IllegalArgumentException("token idle timeout must be positive, got " + tokenIdleTimeout);
        }
        String b = baseUri.toString();
        while (b.endsWith("/")) {
            b = b.substring(0, b.length() - 1);
        }
        this.base = b;
        this.model = model;
        this.idleTimeoutNanos = tokenIdleTimeout.toNanos();
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(CONNECT_TIMEOUT)
                .build();
        this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ollama-idle-watchdog");
            t.setDaemon(true);
            return t;
        });
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
    public Generation generate(List<ChatMessage> messages, GenerationOptions options, TokenSink sink) {
        Objects.requireNonNull(sink, "sink");
        byte[] body = chatRequest(model, messages, options == null ? GenerationOptions.DEFAULTS : options);
        HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/api/chat"))
                .header("Content-Type", "application/json")
                .header("Accept", "application/x-ndjson")
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        OllamaGeneration generation = new OllamaGeneration(request, sink);
        Thread.ofVirtual().name("ollama-generation").start(generation::run);
        return generation;
    }

    /** The {@code /api/chat} request body: model, messages, {@code stream: true}, options without nulls. */
    static byte[] chatRequest(String model, List<ChatMessage> messages, GenerationOptions o) {
        JsonArrayBuilder msgs = BUILDERS.createArrayBuilder();
        for (ChatMessage m : messages) {
            msgs.add(BUILDERS.createObjectBuilder().add("role", m.role().wireName()).add("content", m.content()));
        }
        JsonObjectBuilder opts = BUILDERS.createObjectBuilder();
        if (o.maxNewTokens() != null) {
            opts.add("num_predict", o.maxNewTokens());
        }
        if (o.temperature() != null) {
            opts.add("temperature", o.temperature());
        }
        if (o.seed() != null) {
            opts.add("seed", o.seed());
        }
        if (!o.stop().isEmpty()) {
            JsonArrayBuilder stop = BUILDERS.createArrayBuilder();
            o.stop().forEach(stop::add);
            opts.add("stop", stop);
        }
        if (o.contextTokens() != null) {
            opts.add("num_ctx", o.contextTokens());
        }
        if (o.keepTokens() != null) {
            opts.add("num_keep", o.keepTokens());
        }
        JsonObjectBuilder req = BUILDERS.createObjectBuilder()
                .add("model", model)
                .add("messages", msgs)
                .add("stream", true);
        JsonObject built = opts.build();
        if (!built.isEmpty()) {
            req.add("options", built);
        }
        return req.build().toString().getBytes(StandardCharsets.UTF_8);
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
            return new EngineHealth(EngineHealth.ERROR, "probe of Ollama at " + base + " was interrupted");
        } catch (IOException | RuntimeException e) {
            return new EngineHealth(EngineHealth.UNREACHABLE, "Ollama is not reachable at " + base + " (" + describe(e)
                    + "): start Ollama at " + base + " (`ollama serve`), or run without it: STREAMING_LLM_MODEL=echo or gguf:/path/model.gguf");
        }
        if (response.statusCode() != 200) {
            return new EngineHealth(EngineHealth.ERROR, "Ollama at " + base + " answered GET /api/tags with HTTP "
                    + response.statusCode() + ": " + errorMessage(response.body()));
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
            return new EngineHealth(EngineHealth.MODEL_MISSING, "model " + model + " is not pulled in Ollama at " + base
                    + ": run `ollama pull " + model + "`");
        } catch (JsonException | ClassCastException | NullPointerException e) {
            return new EngineHealth(EngineHealth.ERROR, "Ollama at " + base + " answered GET /api/tags with something that is not its model list");
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
            throw unreachable(e);
        } catch (HttpTimeoutException e) {
            throw new EngineException(EngineException.Kind.TIMEOUT, "Ollama at " + base + " did not answer " + method + " "
                    + path + " within " + FORWARD_TIMEOUT.toSeconds() + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new EngineException(EngineException.Kind.INTERNAL, "interrupted while calling Ollama", e);
        } catch (IOException e) {
            throw isUnreachable(e) ? unreachable(e)
                    : new EngineException(EngineException.Kind.DROPPED, "Ollama at " + base + " closed the connection ("
                    + describe(e) + ")", e);
        }
    }

    @Override
    public void close() {
        http.shutdownNow();
        watchdog.shutdownNow();
    }

    private EngineException unreachable(Throwable e) {
        return new EngineException(EngineException.Kind.UNREACHABLE, "Ollama is not reachable at " + base + " ("
                + describe(e) + "): start Ollama at " + base + " (`ollama serve`) or set STREAMING_LLM_OLLAMA_URL", e);
    }

    private EngineException httpError(int status, byte[] body) {
        String message = errorMessage(body);
        if (status == 404 || isModelNotFound(message)) {
            return new EngineException(EngineException.Kind.MODEL_NOT_FOUND, "model " + model + " is not available in Ollama at "
                    + base + ": run `ollama pull " + model + "` (Ollama said: " + message + ")");
        }
        return new EngineException(EngineException.Kind.UPSTREAM_ERROR, "Ollama at " + base + " answered HTTP " + status
                + ": " + message);
    }

    private EngineException errorRecord(String message) {
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
    private static String errorMessage(byte[] body) {
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

    private static boolean isUnreachable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConnectException || t instanceof UnknownHostException
                    || t instanceof UnresolvedAddressException || t instanceof HttpConnectTimeoutException) {
                return true;
            }
        }
        return false;
    }

    private static String describe(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ConnectException) {
                return "connection refused";
            }
            if (t instanceof UnknownHostException || t instanceof UnresolvedAddressException) {
                return "unknown host";
            }
            if (t instanceof HttpConnectTimeoutException) {
                return "connect timed out";
            }
        }
        String m = e.getMessage();
        return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
    }

    private static long longOr(JsonObject o, String key, long fallback) {
        return o.get(key) instanceof JsonNumber n ? n.longValue() : fallback;
    }

    private enum Stop { CANCELLED, TIMEOUT, FINISHED }

    private final class OllamaGeneration implements Generation {
        private final CompletableFuture<GenerationResult> result = new CompletableFuture<>();
        private final AtomicReference<Stop> stop = new AtomicReference<>();
        private final HttpRequest request;
        private final TokenSink sink;
        private final StringBuilder text = new StringBuilder();
        private volatile CompletableFuture<HttpResponse<InputStream>> exchange;
        private volatile InputStream body;
        private final long start = System.nanoTime();
        private volatile long lastActivity = start;
        private int deltas;
        private GenerationResult last;

        OllamaGeneration(HttpRequest request, TokenSink sink) {
            this.request = request;
            this.sink = sink;
        }

        @Override
        public CompletableFuture<GenerationResult> result() {
            return result;
        }

        @Override
        public void cancel() {
            stopWith(Stop.CANCELLED);
        }

        private void stopWith(Stop reason) {
            if (stop.compareAndSet(null, reason)) {
                abort();
            }
        }

        /** Aborts the exchange: before the headers by cancelling it, after them by closing the body. */
        private void abort() {
            CompletableFuture<HttpResponse<InputStream>> ex = exchange;
            if (ex != null) {
                ex.cancel(true);
            }
            InputStream in = body;
            if (in != null) {
                try {
                    in.close();
                } catch (IOException ignored) {
                    // closing is best effort: the exchange is being torn down anyway
                }
            }
        }

        private void checkIdle() {
            if (stop.get() != null) {
                return;
            }
            long idle = System.nanoTime() - lastActivity;
            if (idle >= idleTimeoutNanos) {
                stopWith(Stop.TIMEOUT);
            } else {
                scheduleWatchdog(idleTimeoutNanos - idle);
            }
        }

        private void scheduleWatchdog(long delayNanos) {
            try {
                watchdog.schedule(this::checkIdle, delayNanos, TimeUnit.NANOSECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closed) {
                stopWith(Stop.CANCELLED);
            }
        }

        void run() {
            scheduleWatchdog(idleTimeoutNanos);
            try {
                exchange = http.sendAsync(request, info -> new OrderedBodyStream());
                if (stop.get() != null) {
                    exchange.cancel(true);
                }
                HttpResponse<InputStream> response = exchange.get();
                body = response.body();
                if (stop.get() != null) {
                    abort();
                    throw new IOException("aborted");
                }
                lastActivity = System.nanoTime();
                if (response.statusCode() != 200) {
                    byte[] err = response.body().readNBytes(MAX_ERROR_BODY);
                    body.close();
                    finishExceptionally(httpError(response.statusCode(), err));
                    return;
                }
                readStream(response.body());
            } catch (ExecutionException e) {
                failed(e.getCause() == null ? e : e.getCause());
            } catch (CancellationException | IOException e) {
                failed(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                abort();
                finishExceptionally(new EngineException(EngineException.Kind.INTERNAL, "Ollama generation interrupted", e));
            } catch (EngineException e) {
                abort();
                finishExceptionally(e);
            } catch (RuntimeException e) {
                abort();
                finishExceptionally(new EngineException(EngineException.Kind.INTERNAL, "token sink failed: " + e.getMessage(), e));
            }
        }

        private void failed(Throwable e) {
            Stop reason = stop.get();
            if (reason == Stop.CANCELLED) {
                finishCancelled();
            } else if (reason == Stop.TIMEOUT) {
                finishExceptionally(new EngineException(EngineException.Kind.TIMEOUT, "Ollama at " + base + " sent nothing for "
                        + Duration.ofNanos(idleTimeoutNanos).toMillis() + " ms (" + (deltas == 0 ? "no token yet" : "after " + deltas
                        + " tokens") + "); the request was aborted", e));
            } else if (isUnreachable(e)) {
                finishExceptionally(unreachable(e));
            } else {
                finishExceptionally(new EngineException(EngineException.Kind.DROPPED, "Ollama at " + base
                        + " dropped the connection before the final record (" + describe(e) + ", after " + deltas + " tokens)", e));
            }
        }

        private void readStream(InputStream in) throws IOException {
            byte[] buf = new byte[8192];
            byte[] line = new byte[512];
            int lineLen = 0;
            int n;
            while ((n = in.read(buf)) != -1) {
                int from = 0;
                for (int i = 0; i < n; i++) {
                    if (buf[i] == '\n') {
                        int len = i - from;
                        if (lineLen + len > line.length) {
                            line = Arrays.copyOf(line, Math.max(line.length * 2, lineLen + len));
                        }
                        System.arraycopy(buf, from, line, lineLen, len);
                        lineLen += len;
                        if (record(line, lineLen)) {
                            // reading the end of the body first hands the connection back to the pool
                            drain(in);
                            result.complete(last);
                            return;
                        }
                        lineLen = 0;
                        from = i + 1;
                    }
                }
                int rest = n - from;
                if (rest > 0) {
                    if (lineLen + rest > line.length) {
                        line = Arrays.copyOf(line, Math.max(line.length * 2, lineLen + rest));
                    }
                    System.arraycopy(buf, from, line, lineLen, rest);
                    lineLen += rest;
                }
            }
            // EOF: a last record without a trailing newline still counts
            if (lineLen > 0 && record(line, lineLen)) {
                result.complete(last);
                return;
            }
            if (stop.get() != null) {
                throw new IOException("aborted");
            }
            throw new IOException("stream ended");
        }

        /** Handles one NDJSON line; true at the final record, whose result is then in {@link #last}. */
        private boolean record(byte[] line, int len) {
            if (len > 0 && line[len - 1] == '\r') {
                len--;
            }
            if (len == 0) {
                return false;
            }
            if (stop.get() != null) {
                throw new CancellationException("aborted");
            }
            JsonObject rec;
            // a String source spares Parsson a charset decoder per line: ~4x the records/s of a byte stream source
            try (JsonReader reader = READERS.createReader(new StringReader(new String(line, 0, len, StandardCharsets.UTF_8)))) {
                rec = reader.readObject();
            } catch (JsonException | IllegalStateException e) {
                String shown = new String(line, 0, Math.min(len, 200), StandardCharsets.UTF_8);
                throw new EngineException(EngineException.Kind.PROTOCOL, "Ollama at " + base
                        + " sent a line that is not a JSON record: " + shown, e);
            }
            lastActivity = System.nanoTime();
            if (rec.get("error") instanceof JsonValue err) {
                throw errorRecord(err instanceof JsonString s ? s.getString() : err.toString());
            }
            if (rec.get("message") instanceof JsonObject message && message.get("content") instanceof JsonString content) {
                String delta = content.getString();
                if (!delta.isEmpty()) {
                    text.append(delta);
                    deltas++;
                    sink.onToken(delta);
                }
            }
            if (rec.getBoolean("done", false)) {
                if (!stop.compareAndSet(null, Stop.FINISHED)) {
                    throw new CancellationException("aborted");
                }
                String doneReason = rec.getString("done_reason", "stop");
                FinishReason finish = "length".equals(doneReason) ? FinishReason.LENGTH : FinishReason.STOP;
                int promptTokens = (int) longOr(rec, "prompt_eval_count", -1);
                int evalCount = (int) longOr(rec, "eval_count", -1);
                long total = longOr(rec, "total_duration", 0);
                last = (new GenerationResult(text.toString(), finish, promptTokens, evalCount,
                        total > 0 ? total : System.nanoTime() - start,
                        longOr(rec, "load_duration", 0), longOr(rec, "prompt_eval_duration", 0),
                        longOr(rec, "eval_duration", 0), promptTokens > 0));
                return true;
            }
            return false;
        }

        /** Reads past the final record so the connection can be reused; gives up after a short grace. */
        private void drain(InputStream in) {
            java.util.concurrent.ScheduledFuture<?> guard = watchdog.schedule(() -> {
                try {
                    in.close();
                } catch (IOException ignored) {
                    // best effort
                }
            }, DRAIN_GRACE.toMillis(), TimeUnit.MILLISECONDS);
            try (in) {
                in.transferTo(OutputStream.nullOutputStream());
            } catch (IOException ignored) {
                // the result is complete; a broken tail only costs the pooled connection
            } finally {
                guard.cancel(false);
            }
        }

        private void finishCancelled() {
            result.complete(new GenerationResult(text.toString(), FinishReason.CANCELLED, -1, deltas,
                    System.nanoTime() - start, 0, 0, 0, false));
        }

        private void finishExceptionally(EngineException e) {
            stop.compareAndSet(null, Stop.FINISHED);
            if (stop.get() == Stop.CANCELLED && e.kind() != EngineException.Kind.INTERNAL) {
                finishCancelled();
                return;
            }
            result.completeExceptionally(e);
        }
    }

}
