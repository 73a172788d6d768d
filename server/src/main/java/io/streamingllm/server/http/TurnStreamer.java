package io.streamingllm.server.http;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerResponse;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.TokenListener;
import io.streamingllm.core.session.Turn;
import io.streamingllm.core.session.TurnResult;
import io.streamingllm.server.edge.ApiException;
import io.streamingllm.server.edge.Errors;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Relays one turn onto an HTTP response. The engine's thread only enqueues deltas (bounded: a client that falls
 * {@code capacity} deltas behind gets its turn cancelled instead of stalling the engine); the request's own thread
 * writes them, batching what is queued into one flush, and sends heartbeats while idle so that a client that went
 * away is noticed and its turn cancelled upstream, also before the first token.
 */
public final class TurnStreamer implements TokenListener {
    private static final Object FINISHED = new Object();
    private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private final AtomicInteger pending = new AtomicInteger();
    private final int capacity;
    private final long heartbeatNanos;
    private volatile boolean overflowed;

    public TurnStreamer(int capacity, Duration heartbeat) {
        this.capacity = capacity;
        this.heartbeatNanos = heartbeat.toNanos();
    }

    @Override
    public void onToken(String delta) {
        if (overflowed) {
            return;
        }
        if (pending.incrementAndGet() > capacity) {
            overflowed = true;
            queue.add(FINISHED);
            return;
        }
        queue.add(delta);
    }

    /**
     * Streams the turn to {@code res} until it is durable (then the format's done record), fails (error record),
     * or the client goes away (the turn is cancelled). Returns when the response is complete.
     */
    public void stream(Turn turn, ServerResponse res, StreamFormat format) {
        turn.result().whenComplete((r, e) -> queue.add(FINISHED));
        res.status(200);
        res.header(HeaderNames.CONTENT_TYPE, format.contentType());
        res.header(HeaderNames.CACHE_CONTROL, "no-cache");
        if (turn.conversationId() != null) {
            res.header("X-Conversation-Id", turn.conversationId());
        }
        StringBuilder buf = new StringBuilder(256);
        try (OutputStream out = res.outputStream()) {
            out.flush();
            while (true) {
                Object item = queue.poll(heartbeatNanos, TimeUnit.NANOSECONDS);
                if (item == null) {
                    buf.append(format.heartbeat());
                } else {
                    boolean finished = false;
                    while (item != null) {
                        if (item == FINISHED) {
                            finished = true;
                            break;
                        }
                        pending.decrementAndGet();
                        format.token(buf, (String) item);
                        item = buf.length() < 16_384 ? queue.poll() : null;
                    }
                    if (finished) {
                        if (overflowed) {
                            turn.cancel();
                            format.error(buf, new ApiException(503, "client_too_slow",
                                    "the client read tokens too slowly; the turn was cancelled"));
                        } else {
                            finish(turn, format, buf);
                        }
                        write(out, buf);
                        return;
                    }
                }
                write(out, buf);
            }
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

    private static void write(OutputStream out, StringBuilder buf) throws java.io.IOException {
        if (buf.isEmpty()) {
            return;
        }
        out.write(buf.toString().getBytes(StandardCharsets.UTF_8));
        out.flush();
        buf.setLength(0);
    }
}
