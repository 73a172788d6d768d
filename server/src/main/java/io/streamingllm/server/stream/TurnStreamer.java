package io.streamingllm.server.stream;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerResponse;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.TokenListener;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.session.Turn;
import io.streamingllm.core.session.TurnResult;
import io.streamingllm.server.edge.ApiException;
import io.streamingllm.server.edge.Errors;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Relays one turn onto an HTTP response through a {@link TokenOutbox}: the engine's thread only enqueues deltas;
 * the request's own thread formats and writes them, several to a write, with heartbeats while idle so that a
 * client that went away is noticed and its turn cancelled upstream, also before the first token. The done record
 * goes out once the turn is durable.
 *
 * <p>One per turn; {@link #onToken} on the engine's thread, {@link #stream} on the request's.
 */
public final class TurnStreamer implements TokenListener {
    /** Formatted characters after which the writer writes before formatting more. */
    private static final int MAX_CHARS_PER_WRITE = 16_384;

    private final TokenOutbox outbox;
    private final long heartbeatNanos;

    public TurnStreamer(StreamSettings settings) {
        this.outbox = new TokenOutbox(settings.bufferedTokens());
        this.heartbeatNanos = settings.heartbeat().toNanos();
    }

    @Override
    public void onToken(String delta) {
        if (!outbox.offer(delta)) {
            outbox.close();
        }
    }

    @Override
    public void onToolCall(ToolCall call) {
        outbox.add(call);
    }

    /**
     * Streams the turn to {@code res} until it is durable (then the format's done record), fails (error record),
     * or the client goes away (the turn is cancelled). Returns when the response is complete.
     *
     * <p>The response is committed at the first token, at the turn's end, or after one heartbeat interval,
     * whichever comes first: a turn the engine refuses at once (unknown model, bad key, rate limit, unreachable)
     * throws its {@link ApiException} here instead, so that the client gets that status, not a 200 whose stream
     * carries the error. Waiting costs the first token nothing: the headers go out as it arrives.
     */
    public void stream(Turn turn, ServerResponse res, StreamFormat format) {
        turn.result().whenComplete((r, e) -> outbox.close());
        boolean started;
        try {
            started = outbox.awaitFirst(heartbeatNanos);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            turn.cancel();
            return;
        }
        if (!started && turn.result().isCompletedExceptionally()) {
            throw Errors.toApi(turn.result().exceptionNow());
        }
        res.status(200);
        res.header(HeaderNames.CONTENT_TYPE, format.contentType());
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        WindowHeaders.set(res, turn);
        try (OutputStream out = res.outputStream()) {
            out.flush();
            ResponseWriter writer = new ResponseWriter(out, format);
            outbox.drainTo(writer, heartbeatNanos);
            if (outbox.overflowed()) {
                turn.cancel();
                format.error(writer.buf, new ApiException(503, "client_too_slow",
                        "the client read tokens too slowly; the turn was cancelled"));
            } else {
                finish(turn, format, writer.buf);
            }
            writer.flush();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            turn.cancel();
        } catch (Exception e) {
            // the client went away (write failed) or the response broke: stop the generation upstream
            turn.cancel();
        }
    }

    private static void finish(Turn turn, StreamFormat format, StringBuilder buf) {
        try {
            TurnResult r = turn.result().join();
            if (r.finishReason() != FinishReason.CANCELLED) {
                format.done(buf, r);
            } else {
                format.error(buf, new ApiException(503, "cancelled", "the turn was cancelled (server shutting down)"));
            }
        } catch (RuntimeException e) {
            format.error(buf, Errors.toApi(e));
        }
    }

    /**
     * Formats records into one buffer and writes it to the response in one go: token records in their byte form
     * where the format has one, the others as text encoded when the next byte record or the write comes, so the
     * order stays.
     */
    private static final class ResponseWriter implements BatchWriter {
        private final OutputStream out;
        private final StreamFormat format;
        private final StringBuilder buf = new StringBuilder(256);
        private final Utf8Buffer bytes = new Utf8Buffer(1024);
        private int calls;

        ResponseWriter(OutputStream out, StreamFormat format) {
            this.out = out;
            this.format = format;
        }

        @Override
        public void append(String delta) throws IOException {
            if (buf.isEmpty() && format.token(bytes, delta)) {
                if (bytes.length() >= MAX_CHARS_PER_WRITE) {
                    flush();
                }
                return;
            }
            format.token(buf, delta);
            if (buf.length() + bytes.length() >= MAX_CHARS_PER_WRITE) {
                flush();
            }
        }

        @Override
        public void toolCall(ToolCall call) throws IOException {
            format.toolCall(buf, calls++, call);
        }

        @Override
        public void flush() throws IOException {
            if (bytes.length() == 0) {
                if (buf.isEmpty()) {
                    return;
                }
                out.write(buf.toString().getBytes(StandardCharsets.UTF_8));
            } else {
                bytes.append(buf);
                out.write(bytes.array(), 0, bytes.length());
                bytes.clear();
            }
            out.flush();
            buf.setLength(0);
        }

        @Override
        public void idle() throws IOException {
            buf.append(format.heartbeat());
            flush();
        }
    }
}
