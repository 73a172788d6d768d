package io.streamingllm.core.engine.ollama;

import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.GenerationResult;
import io.streamingllm.core.engine.TokenListener;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.engine.http.NdjsonBody;
import io.streamingllm.core.engine.http.StreamedCall;
import io.streamingllm.core.engine.http.StreamingHttp;
import io.streamingllm.core.engine.http.UpstreamRequest;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonException;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonReaderFactory;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;

import java.io.IOException;
import java.io.StringReader;
import java.net.http.HttpHeaders;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;

/**
 * One streaming call. The response body is parsed where it arrives (on the HTTP client's thread) and each
 * delta goes straight to the listener. The result is settled (end of body, failure, cancel, idle timeout) only
 * while no record is being handled, so it completes after the last {@link TokenListener#onToken} call returned;
 * stop, abort and the idle watchdog are {@link StreamedCall}'s, what a record or a failure means is Ollama's.
 */
final class OllamaGeneration extends StreamedCall {
    private static final JsonReaderFactory READERS = Json.createReaderFactory(Map.of());

    private final OllamaErrors errors;
    private final TokenListener listener;
    private final StringBuilder text = new StringBuilder();
    /** The tool calls so far, in order. */
    private final List<ToolCall> calls = new ArrayList<>();
    private int deltas;
    private GenerationResult last;

    OllamaGeneration(StreamingHttp http, ScheduledExecutorService timers, OllamaErrors errors, long idleTimeoutNanos,
                     TokenListener listener) {
        this(http, timers, errors, idleTimeoutNanos, NdjsonBody.DEFAULT_MAX_LINE_BYTES, listener);
    }

    OllamaGeneration(StreamingHttp http, ScheduledExecutorService timers, OllamaErrors errors, long idleTimeoutNanos,
                     int maxLineBytes, TokenListener listener) {
        super(http, timers, idleTimeoutNanos, maxLineBytes, "ollama-result");
        this.errors = errors;
        this.listener = listener;
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

    /** The body ended (cause null) or the exchange failed: the final record's result, or the failure. */
    @Override
    protected void failedWith(Throwable cause) {
        delivering.lock();
        try {
            if (last != null) {
                settle(last, null); // a broken tail after the final record only costs the pooled connection
                return;
            }
            Stop reason = stop.get();
            if (reason == Stop.CANCELLED || reason == Stop.TIMEOUT || settled()) {
                return;
            }
            Throwable e = cause == null ? new IOException("stream ended")
                    : cause instanceof CompletionException && cause.getCause() != null ? cause.getCause() : cause;
            if (e instanceof NdjsonBody.LineTooLong tooLong) {
                finishExceptionally(new EngineException(EngineException.Kind.PROTOCOL, "Ollama at " + errors.base()
                        + " sent a line longer than " + tooLong.maxLineBytes() / 1024 + " KiB (after " + deltas
                        + " tokens): the turn was stopped (limit: STREAMING_LLM_MAX_UPSTREAM_LINE_KB)", e));
            } else if (OllamaErrors.isUnreachable(e)) {
                finishExceptionally(errors.unreachable(e));
            } else if (e instanceof IOException || e instanceof CancellationException) {
                finishExceptionally(new EngineException(EngineException.Kind.DROPPED, "Ollama at " + errors.base()
                        + " dropped the connection before the final record (" + OllamaErrors.describe(e) + ", after " + deltas + " tokens)", e));
            } else {
                finishExceptionally(new EngineException(EngineException.Kind.INTERNAL, "calling Ollama failed: " + OllamaErrors.describe(e), e));
            }
        } finally {
            delivering.unlock();
            settleIfStopped();
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
            throw new EngineException(EngineException.Kind.PROTOCOL, "Ollama at " + errors.base()
                    + " sent a line that is not a JSON record: " + shown, e);
        }
        if (rec.get("error") instanceof JsonValue err) {
            throw errors.errorRecord(err instanceof JsonString s ? s.getString() : err.toString());
        }
        if (rec.get("message") instanceof JsonObject message) {
            if (message.get("content") instanceof JsonString content) {
                deliver(content.getString());
            }
            if (message.get("tool_calls") instanceof JsonArray calls) {
                toolCalls(calls);
            }
        }
        if (rec.getBoolean("done", false)) {
            if (!stop.compareAndSet(null, Stop.FINISHED)) {
                return false; // cancelled or timed out meanwhile: settled as such
            }
            String doneReason = rec.getString("done_reason", "stop");
            FinishReason finish = "length".equals(doneReason) ? FinishReason.LENGTH
                    : calls.isEmpty() ? FinishReason.STOP : FinishReason.TOOL_CALLS;
            int promptTokens = (int) longOr(rec, "prompt_eval_count", -1);
            int evalCount = (int) longOr(rec, "eval_count", -1);
            long total = longOr(rec, "total_duration", 0);
            last = new GenerationResult(text.toString(), finish, promptTokens, evalCount,
                    total > 0 ? total : System.nanoTime() - start,
                    longOr(rec, "load_duration", 0), longOr(rec, "prompt_eval_duration", 0),
                    longOr(rec, "eval_duration", 0), promptTokens > 0, calls);
            drainGuard();
        }
        return true;
    }

    private void toolCalls(JsonArray array) {
        for (ToolCall c : OllamaToolCalls.read(array, calls.size(), errors.base())) {
            calls.add(c);
            listener.onToolCall(c);
        }
    }

    private void deliver(String delta) {
        if (!delta.isEmpty()) {
            text.append(delta);
            deltas++;
            listener.onToken(delta);
        }
    }

    @Override
    protected EngineException timedOut() {
        return new EngineException(EngineException.Kind.TIMEOUT, "Ollama at " + errors.base()
                + " sent nothing for " + Duration.ofNanos(idleTimeoutNanos).toMillis() + " ms ("
                + (deltas == 0 ? "no token yet" : "after " + deltas + " tokens") + "); the request was aborted");
    }

    @Override
    protected void finishCancelled() {
        settle(new GenerationResult(text.toString(), FinishReason.CANCELLED, -1, deltas,
                System.nanoTime() - start, 0, 0, 0, false), null);
    }

    /** A non-200 answer: its (bounded) body becomes the failure, settled once no record is being handled. */
    @Override
    protected void failedWithStatus(int status, HttpHeaders headers, byte[] body, UpstreamRequest request) {
        delivering.lock();
        try {
            if (!settled()) {
                finishExceptionally(errors.httpError(status, body));
            }
        } finally {
            delivering.unlock();
            settleIfStopped();
        }
    }

    private static long longOr(JsonObject o, String key, long fallback) {
        return o.get(key) instanceof JsonNumber n ? n.longValue() : fallback;
    }
}
