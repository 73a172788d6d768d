package io.streamingllm.core.engine.ollama;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineHealth;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.Generation;
import io.streamingllm.core.engine.GenerationResult;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.TokenListener;
import jakarta.json.Json;
import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonReaderFactory;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.StringReader;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Streams generations from an Ollama server ({@code POST /api/chat}, NDJSON) over {@code java.net.http}.
 * Each {@code message.content} delta reaches the listener as soon as its line arrives. A cancel aborts the
 * HTTP exchange (before or after the response headers), so Ollama sees the connection close and stops
 * generating. Failures complete the result with a typed {@link EngineException} whose message says
 * what to do. One {@link HttpClient} serves all calls of an engine.
 *
 * <p>Responses are parsed on the HTTP client's selector thread, which serves every call: listeners are called there
 * and must not block (the server's listeners only enqueue). Results complete on a virtual thread of their own.
 */
public final class OllamaEngine implements ModelEngine {
    private static final JsonReaderFactory READERS = Json.createReaderFactory(Map.of());
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
    private static final Duration HEALTH_TIMEOUT = Duration.ofSeconds(3);
    private static final Duration FORWARD_TIMEOUT = Duration.ofSeconds(30);
    private static final int MAX_ERROR_BODY = 64 * 1024;
    private static final Duration DRAIN_GRACE = Duration.ofSeconds(1);

    private final String base;
    private final URI chatUri;
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
        this.chatUri = URI.create(b + "/api/chat");
        this.model = model;
        this.idleTimeoutNanos = tokenIdleTimeout.toNanos();
        this.http = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(CONNECT_TIMEOUT)
                // responses are handled on the client's selector thread: listeners only enqueue, and a hand-off to a
                // pool thread per read cost more than the records' parsing
                .executor(Runnable::run)
                .build();
        ScheduledThreadPoolExecutor timers = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "ollama-idle-watchdog");
            t.setDaemon(true);
            return t;
        });
        // a settled generation cancels its timers; removing them at once lets it be collected now rather than
        // when the idle timeout (minutes) would have fired: under load that is tens of thousands of finished turns
        timers.setRemoveOnCancelPolicy(true);
        this.watchdog = timers;
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
        ChatRequestJson body = ChatRequestJson.write(model, messages, options == null ? GenerationOptions.DEFAULTS : options);
        HttpRequest request = HttpRequest.newBuilder(chatUri)
                .header("Content-Type", "application/json")
                .header("Accept", "application/x-ndjson")
                .POST(body.publisher())
                .build();
        OllamaGeneration generation = new OllamaGeneration(listener);
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
            return new EngineHealth(EngineHealth.Status.UNREACHABLE, "Ollama is not reachable at " + base + " (" + describe(e)
                    + "): start Ollama at " + base + " (`ollama serve`), or run without it: STREAMING_LLM_MODEL=echo or gguf:/path/model.gguf");
        }
        if (response.statusCode() != 200) {
            return new EngineHealth(EngineHealth.Status.ERROR, "Ollama at " + base + " answered GET /api/tags with HTTP "
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
            return new EngineHealth(EngineHealth.Status.MODEL_MISSING, "model " + model + " is not pulled in Ollama at " + base
                    + ": run `ollama pull " + model + "`");
        } catch (JsonException | ClassCastException | NullPointerException e) {
            return new EngineHealth(EngineHealth.Status.ERROR, "Ollama at " + base + " answered GET /api/tags with something that is not its model list");
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

    /**
     * One streaming call. The response body is parsed where it arrives (on the HTTP client's thread) and each
     * delta goes straight to the listener. The result is settled (end of body, failure, cancel, idle timeout) only
     * while no record is being handled, so it completes after the last {@link TokenListener#onToken} call returned.
     */
    private final class OllamaGeneration implements Generation, NdjsonBody.Lines {
        private final CompletableFuture<GenerationResult> result = new CompletableFuture<>();
        private final AtomicReference<Stop> stop = new AtomicReference<>();
        /** Held while a signal of the response is handled; a cancel or timeout settles once it is free. */
        private final ReentrantLock delivering = new ReentrantLock();
        private final TokenListener listener;
        private final StringBuilder text = new StringBuilder();
        private final long start = System.nanoTime();
        private volatile long lastActivity = start;
        private volatile CompletableFuture<HttpResponse<Void>> exchange;
        private volatile NdjsonBody body;
        private int deltas;
        private GenerationResult last;
        private volatile boolean settled;
        private volatile ScheduledFuture<?> idleCheck;
        private volatile ScheduledFuture<?> drainCheck;

        OllamaGeneration(TokenListener listener) {
            this.listener = listener;
        }

        @Override
        public CompletableFuture<GenerationResult> result() {
            return result;
        }

        @Override
        public void cancel() {
            stopWith(Stop.CANCELLED);
        }

        void start(HttpRequest request) {
            scheduleWatchdog(idleTimeoutNanos);
            CompletableFuture<HttpResponse<Void>> ex;
            try {
                ex = http.sendAsync(request, this::bodyFor);
            } catch (RuntimeException e) {
                failedWith(e);
                return;
            }
            exchange = ex;
            if (stop.get() != null) {
                ex.cancel(true);
            }
            ex.whenComplete((r, e) -> {
                if (e != null) {
                    failedWith(e);
                }
            });
        }

        private HttpResponse.BodySubscriber<Void> bodyFor(HttpResponse.ResponseInfo info) {
            lastActivity = System.nanoTime();
            if (info.statusCode() != 200) {
                return new ErrorBody(info.statusCode());
            }
            NdjsonBody b = new NdjsonBody(this);
            body = b;
            if (stop.get() != null) {
                b.cancel();
            }
            return b;
        }

        private void stopWith(Stop reason) {
            if (stop.compareAndSet(null, reason)) {
                abort();
                settleIfStopped();
            }
        }

        /** Aborts the exchange: before the headers by cancelling it, after them by cancelling the body too. */
        private void abort() {
            CompletableFuture<HttpResponse<Void>> ex = exchange;
            if (ex != null) {
                ex.cancel(true);
            }
            NdjsonBody b = body;
            if (b != null) {
                b.cancel();
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
                idleCheck = watchdog.schedule(this::checkIdle, delayNanos, TimeUnit.NANOSECONDS);
                if (settled) {
                    cancelTimer(idleCheck); // settled while this was being scheduled
                }
            } catch (java.util.concurrent.RejectedExecutionException closed) {
                stopWith(Stop.CANCELLED);
            }
        }

        @Override
        public boolean line(byte[] bytes, int offset, int length) {
            delivering.lock();
            try {
                if (stop.get() != null) {
                    return last != null; // after the final record the rest is read (and ignored) so the connection is reused
                }
                lastActivity = System.nanoTime();
                return record(bytes, offset, length);
            } catch (EngineException e) {
                finishExceptionally(e); // before the abort, whose own failure signal then finds the result settled
                abort();
                return false;
            } catch (RuntimeException e) {
                finishExceptionally(new EngineException(EngineException.Kind.INTERNAL, "token listener failed: " + e.getMessage(), e));
                abort();
                return false;
            } finally {
                delivering.unlock();
                settleIfStopped();
            }
        }

        @Override
        public void end() {
            failedWith(null);
        }

        @Override
        public void failed(Throwable cause) {
            failedWith(cause);
        }

        /** The body ended (cause null) or the exchange failed: the final record's result, or the failure. */
        private void failedWith(Throwable cause) {
            delivering.lock();
            try {
                if (last != null) {
                    settle(last, null); // a broken tail after the final record only costs the pooled connection
                    return;
                }
                Stop reason = stop.get();
                if (reason == Stop.CANCELLED || reason == Stop.TIMEOUT || settled) {
                    return;
                }
                Throwable e = cause == null ? new IOException("stream ended")
                        : cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null ? cause.getCause() : cause;
                if (isUnreachable(e)) {
                    finishExceptionally(unreachable(e));
                } else if (e instanceof IOException || e instanceof CancellationException) {
                    finishExceptionally(new EngineException(EngineException.Kind.DROPPED, "Ollama at " + base
                            + " dropped the connection before the final record (" + describe(e) + ", after " + deltas + " tokens)", e));
                } else {
                    finishExceptionally(new EngineException(EngineException.Kind.INTERNAL, "calling Ollama failed: " + describe(e), e));
                }
            } finally {
                delivering.unlock();
                settleIfStopped();
            }
        }

        /** After a cancel or timeout: settles the result unless a record is being handled (its thread settles then). */
        private void settleIfStopped() {
            Stop reason = stop.get();
            if (reason != Stop.CANCELLED && reason != Stop.TIMEOUT || settled
                    || delivering.isHeldByCurrentThread() || !delivering.tryLock()) {
                return;
            }
            try {
                if (reason == Stop.CANCELLED) {
                    finishCancelled();
                } else {
                    settle(null, new EngineException(EngineException.Kind.TIMEOUT, "Ollama at " + base
                            + " sent nothing for " + Duration.ofNanos(idleTimeoutNanos).toMillis() + " ms ("
                            + (deltas == 0 ? "no token yet" : "after " + deltas + " tokens") + "); the request was aborted"));
                }
            } finally {
                delivering.unlock();
            }
        }

        /** Handles one NDJSON line; false once the stream is over (a failure was raised instead). */
        private boolean record(byte[] line, int offset, int len) {
            String plain = ChatChunks.delta(line, offset, len);
            if (plain != null) {
                deliver(plain);
                return true;
            }
            JsonObject rec;
            // a String source spares Parsson a charset decoder per line: ~4x the records/s of a byte stream source
            try (JsonReader reader = READERS.createReader(new StringReader(new String(line, offset, len, StandardCharsets.UTF_8)))) {
                rec = reader.readObject();
            } catch (JsonException | IllegalStateException e) {
                String shown = new String(line, offset, Math.min(len, 200), StandardCharsets.UTF_8);
                throw new EngineException(EngineException.Kind.PROTOCOL, "Ollama at " + base
                        + " sent a line that is not a JSON record: " + shown, e);
            }
            if (rec.get("error") instanceof JsonValue err) {
                throw errorRecord(err instanceof JsonString s ? s.getString() : err.toString());
            }
            if (rec.get("message") instanceof JsonObject message && message.get("content") instanceof JsonString content) {
                deliver(content.getString());
            }
            if (rec.getBoolean("done", false)) {
                if (!stop.compareAndSet(null, Stop.FINISHED)) {
                    return false; // cancelled or timed out meanwhile: settled as such
                }
                String doneReason = rec.getString("done_reason", "stop");
                FinishReason finish = "length".equals(doneReason) ? FinishReason.LENGTH : FinishReason.STOP;
                int promptTokens = (int) longOr(rec, "prompt_eval_count", -1);
                int evalCount = (int) longOr(rec, "eval_count", -1);
                long total = longOr(rec, "total_duration", 0);
                last = new GenerationResult(text.toString(), finish, promptTokens, evalCount,
                        total > 0 ? total : System.nanoTime() - start,
                        longOr(rec, "load_duration", 0), longOr(rec, "prompt_eval_duration", 0),
                        longOr(rec, "eval_duration", 0), promptTokens > 0);
                drainGuard();
            }
            return true;
        }

        private void deliver(String delta) {
            if (!delta.isEmpty()) {
                text.append(delta);
                deltas++;
                listener.onToken(delta);
            }
        }

        /** The end of the body normally follows the final record at once; if it does not, the result is not held up. */
        private void drainGuard() {
            try {
                drainCheck = watchdog.schedule(() -> {
                    if (!settled) {
                        abort();
                        failedWith(null);
                    }
                }, DRAIN_GRACE.toMillis(), TimeUnit.MILLISECONDS);
                if (settled) {
                    cancelTimer(drainCheck);
                }
            } catch (java.util.concurrent.RejectedExecutionException closed) {
                // the engine is closing: the exchange is torn down with it
            }
        }

        private void finishCancelled() {
            settle(new GenerationResult(text.toString(), FinishReason.CANCELLED, -1, deltas,
                    System.nanoTime() - start, 0, 0, 0, false), null);
        }

        private void finishExceptionally(EngineException e) {
            stop.compareAndSet(null, Stop.FINISHED);
            if (stop.get() == Stop.CANCELLED && e.kind() != EngineException.Kind.INTERNAL) {
                finishCancelled();
                return;
            }
            settle(null, e);
        }

        /**
         * Completes the result once, from a fresh virtual thread: what callers chain on it must never run on (and
         * could block) the HTTP client's selector thread, which serves every call of the engine.
         */
        private void settle(GenerationResult r, Throwable failure) {
            if (settled) {
                return;
            }
            settled = true;
            cancelTimer(idleCheck);
            cancelTimer(drainCheck);
            Thread.ofVirtual().name("ollama-result").start(() -> {
                if (failure != null) {
                    result.completeExceptionally(failure);
                } else {
                    result.complete(r);
                }
            });
        }

        private static void cancelTimer(ScheduledFuture<?> timer) {
            if (timer != null) {
                timer.cancel(false);
            }
        }

        /** A non-200 answer: its body (bounded) becomes the error message. */
        private final class ErrorBody implements HttpResponse.BodySubscriber<Void> {
            private final int status;
            private final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            private final CompletableFuture<Void> done = new CompletableFuture<>();
            private Flow.Subscription subscription;

            ErrorBody(int status) {
                this.status = status;
            }

            @Override
            public CompletionStage<Void> getBody() {
                return done;
            }

            @Override
            public void onSubscribe(Flow.Subscription s) {
                subscription = s;
                s.request(Long.MAX_VALUE);
            }

            @Override
            public void onNext(List<ByteBuffer> item) {
                for (ByteBuffer b : item) {
                    int n = Math.min(b.remaining(), MAX_ERROR_BODY - bytes.size());
                    byte[] chunk = new byte[n];
                    b.get(chunk);
                    bytes.writeBytes(chunk);
                }
                if (bytes.size() >= MAX_ERROR_BODY) {
                    subscription.cancel();
                    onComplete();
                }
            }

            @Override
            public void onError(Throwable t) {
                if (done.complete(null)) {
                    failedWith(t);
                }
            }

            @Override
            public void onComplete() {
                if (!done.complete(null)) {
                    return;
                }
                delivering.lock();
                try {
                    if (!settled) {
                        finishExceptionally(httpError(status, bytes.toByteArray()));
                    }
                } finally {
                    delivering.unlock();
                    settleIfStopped();
                }
            }
        }
    }

}
