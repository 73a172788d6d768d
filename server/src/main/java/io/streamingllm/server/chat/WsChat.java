package io.streamingllm.server.chat;

import io.helidon.common.buffers.BufferData;
import io.helidon.common.buffers.DataWriter;
import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;
import io.helidon.webserver.ConnectionContext;
import io.helidon.websocket.WsCloseCodes;
import io.helidon.websocket.WsListener;
import io.helidon.websocket.WsSession;
import io.helidon.websocket.WsUpgradeException;
import io.streamingllm.core.InvalidIdException;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.session.ChatService;
import io.streamingllm.core.session.SessionException;
import io.streamingllm.core.session.Turn;
import io.streamingllm.core.session.TurnResult;
import io.streamingllm.server.edge.ApiException;
import io.streamingllm.server.edge.Auth;
import io.streamingllm.server.edge.Errors;
import io.streamingllm.server.edge.RequestBody;
import io.streamingllm.server.health.EngineGate;
import io.streamingllm.server.http.StreamSettings;
import io.streamingllm.server.json.JsonText;
import io.streamingllm.server.metrics.Metrics;
import jakarta.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code /ws/chat}, wire-compatible with the original sidecar's TypeScript client. Each client frame is a turn
 * {@code {agent_id, user_message, conversation_id?, options?}}; the server answers token frames, then
 * {@code done} once the turn is durable. Bad input (malformed JSON, not an object, a binary frame, missing or
 * mistyped fields, an unknown agent) gets one {@code error} frame and a close. The socket stays open for more
 * turns and remembers nothing between frames. A client that goes away, cleanly or not, cancels its turns.
 *
 * <p>One instance per connection. The engine's thread only enqueues frames; a virtual thread per connection
 * writes them, so a slow client stalls nobody else (it gets its turns cancelled when {@code bufferedTokens} frames
 * are pending).
 */
public final class WsChat implements WsListener {
    private static final Object CLOSE = new Object();
    private static final int MAX_FRAMES_PER_WRITE = 256;
    private static final int MAX_BYTES_PER_WRITE = 64 * 1024;

    private final ChatService chat;
    private final EngineGate gate;
    private final Metrics metrics;
    private final Auth auth;
    private final int capacity;
    private final long pingNanos;
    private final LinkedBlockingQueue<Object> outbox = new LinkedBlockingQueue<>();
    private final AtomicInteger pending = new AtomicInteger();
    private final Set<Turn> active = ConcurrentHashMap.newKeySet();
    private final StringBuilder partial = new StringBuilder();
    private volatile boolean closed;
    private volatile int closeCode = WsCloseCodes.NORMAL_CLOSE;
    private volatile String closeReason = "";

    public WsChat(ChatService chat, EngineGate gate, Metrics metrics, Auth auth, StreamSettings settings) {
        this.chat = chat;
        this.gate = gate;
        this.metrics = metrics;
        this.auth = auth;
        this.capacity = settings.bufferedTokens();
        this.pingNanos = settings.wsPing().toNanos();
    }

    @Override
    public Optional<Headers> onHttpUpgrade(HttpPrologue prologue, Headers headers) throws WsUpgradeException {
        if (!auth.allows(prologue, headers)) {
            // declined: the request falls through to HTTP routing, where the auth filter answers 401
            throw new WsUpgradeException("missing or wrong token");
        }
        return Optional.empty();
    }

    @Override
    public void onOpen(WsSession session) {
        Thread connection = Thread.currentThread();
        Thread.ofVirtual().name("ws-writer").start(() -> writeLoop(session));
        // Helidon reports an orderly close frame but not a dropped connection; the connection's thread ends either way
        Thread.ofVirtual().name("ws-watch").start(() -> {
            try {
                connection.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            gone();
        });
    }

    @Override
    public void onMessage(WsSession session, String text, boolean last) {
        if (closed) {
            return;
        }
        if (partial.length() + text.length() > RequestBody.MAX_BYTES) {
            partial.setLength(0);
            fail(WsCloseCodes.TOO_BIG, "message larger than " + RequestBody.MAX_BYTES + " bytes");
            return;
        }
        partial.append(text);
        if (!last) {
            return;
        }
        String frame = partial.toString();
        partial.setLength(0);
        turn(frame);
    }

    @Override
    public void onMessage(WsSession session, BufferData buffer, boolean last) {
        if (!closed) {
            fail(WsCloseCodes.CANNOT_ACCEPT, "binary frames are not supported: send JSON text frames");
        }
    }

    @Override
    public void onClose(WsSession session, int status, String reason) {
        gone();
    }

    @Override
    public void onError(WsSession session, Throwable t) {
        gone();
    }

    private void turn(String frame) {
        TurnInput input;
        try {
            JsonObject json = JsonText.parseObject(frame);
            input = TurnInput.parse(json, null);
        } catch (JsonText.BadJson | ApiException | InvalidIdException e) {
            fail(WsCloseCodes.VIOLATED_POLICY, e.getMessage());
            return;
        }
        try {
            gate.requireReady();
        } catch (ApiException e) {
            send(error(e.detail()));
            return;
        }
        String quotedId = JsonText.quote(input.conversationId());
        TurnMeter meter = new TurnMeter(metrics, delta -> enqueueToken(quotedId, delta));
        Turn turn;
        try {
            turn = chat.startTurn(input.toRequest(), meter);
        } catch (SessionException e) {
            meter.refused();
            switch (e.kind()) {
                case BUSY -> send(error(e.getMessage()));
                case SHUTTING_DOWN -> fail(WsCloseCodes.GOING_AWAY, e.getMessage());
                default -> fail(WsCloseCodes.VIOLATED_POLICY, e.getMessage());
            }
            return;
        } catch (RuntimeException e) {
            meter.refused();
            ApiException api = Errors.toApi(e);
            if (api.status() == 400) {
                fail(WsCloseCodes.VIOLATED_POLICY, api.detail());
            } else {
                send(error(api.detail()));
            }
            return;
        }
        meter.follow(turn.result());
        active.add(turn);
        if (closed) {
            turn.cancel();
        }
        String doneId = JsonText.quote(turn.conversationId());
        turn.result().whenComplete((r, e) -> {
            active.remove(turn);
            if (e != null) {
                ApiException api = Errors.toApi(e);
                if (api.status() == 503) {
                    gate.markUnavailable(api.detail());
                }
                send(error(api.detail()));
            } else if (r.finishReason() != FinishReason.CANCELLED) {
                send(done(doneId, r));
            }
        });
    }

    private void enqueueToken(String quotedId, String delta) {
        if (closed) {
            return;
        }
        if (pending.incrementAndGet() > capacity) {
            pending.decrementAndGet();
            fail(WsCloseCodes.TRY_AGAIN_LATER, "client reads too slowly: turn cancelled");
            return;
        }
        StringBuilder sb = new StringBuilder(48 + delta.length() + quotedId.length());
        sb.append("{\"type\":\"token\",\"token\":");
        JsonText.quoteInto(sb, delta);
        sb.append(",\"conversation_id\":").append(quotedId).append('}');
        outbox.add(sb.toString());
    }

    private static String done(String quotedId, TurnResult r) {
        return "{\"type\":\"done\",\"conversation_id\":" + quotedId
                + ",\"finish_reason\":\"" + r.finishReason().wireName() + "\"}";
    }

    private static String error(String message) {
        return "{\"type\":\"error\",\"message\":" + JsonText.quote(message == null ? "error" : message) + "}";
    }

    private void send(String frame) {
        if (!closed) {
            pending.incrementAndGet();
            outbox.add(frame);
        }
    }

    /** One error frame, then close; turns under way are cancelled. */
    private void fail(int code, String message) {
        if (closed) {
            return;
        }
        pending.incrementAndGet();
        outbox.add(error(message));
        closeCode = code;
        closeReason = code == WsCloseCodes.VIOLATED_POLICY ? "bad request" : "closing";
        closed = true;
        outbox.add(CLOSE);
        cancelAll();
    }

    private void gone() {
        if (!closed) {
            closed = true;
            closeCode = -1;
            outbox.add(CLOSE);
        }
        cancelAll();
    }

    private void cancelAll() {
        for (Turn t : active) {
            t.cancel();
        }
    }

    /**
     * Writes the outbox in order. Frames that are already waiting go out together in one socket write (at full
     * speed a connection has dozens pending); Helidon's {@link WsSession#send} writes each frame on its own, so
     * text frames are framed here and written through the connection's {@link DataWriter}, the same one Helidon
     * uses (a write is atomic on the socket, so they never interleave with Helidon's pongs). Pings and the close
     * still go through the session.
     */
    private void writeLoop(WsSession session) {
        DataWriter socket = session.socketContext() instanceof ConnectionContext ctx ? ctx.dataWriter() : null;
        TextFrames frames = new TextFrames();
        List<Object> batch = new ArrayList<>();
        try {
            while (true) {
                Object first = outbox.poll(pingNanos, TimeUnit.NANOSECONDS);
                if (first == null) {
                    session.ping(BufferData.empty());
                    continue;
                }
                batch.add(first);
                outbox.drainTo(batch, MAX_FRAMES_PER_WRITE - 1);
                for (Object item : batch) {
                    if (item == CLOSE) {
                        flush(frames, socket);
                        if (closeCode > 0) {
                            session.close(closeCode, closeReason);
                        }
                        return;
                    }
                    pending.decrementAndGet();
                    if (socket == null) {
                        session.send((String) item, true);
                    } else {
                        frames.add((String) item);
                        if (frames.size() >= MAX_BYTES_PER_WRITE) {
                            flush(frames, socket);
                        }
                    }
                }
                batch.clear();
                flush(frames, socket);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // the connection broke while writing
            gone();
        }
    }

    private static void flush(TextFrames frames, DataWriter socket) {
        if (frames.size() > 0) {
            socket.writeNow(frames.take());
        }
    }
}
