package io.streamingllm.server.chat;

import io.helidon.common.buffers.BufferData;
import io.helidon.http.HeaderNames;
import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.websocket.WsCloseCodes;
import io.helidon.websocket.WsListener;
import io.helidon.websocket.WsSession;
import io.helidon.websocket.WsUpgradeException;
import io.streamingllm.core.InvalidIdException;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.TokenListener;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.session.ChatService;
import io.streamingllm.core.session.SessionException;
import io.streamingllm.core.session.Turn;
import io.streamingllm.core.session.TurnResult;
import io.streamingllm.server.edge.ApiException;
import io.streamingllm.server.edge.Auth;
import io.streamingllm.server.edge.Cors;
import io.streamingllm.server.edge.Errors;
import io.streamingllm.server.edge.RequestBody;
import io.streamingllm.server.health.EngineGate;
import io.streamingllm.server.json.JsonText;
import io.streamingllm.server.limits.TurnAdmission;
import io.streamingllm.server.limits.WebSockets;
import io.streamingllm.server.metrics.Metrics;
import io.streamingllm.server.metrics.TurnMeter;
import io.streamingllm.server.stream.StreamSettings;
import io.streamingllm.server.stream.TokenOutbox;
import jakarta.json.JsonObject;

import java.io.IOException;
import java.net.SocketAddress;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code /ws/chat}, wire-compatible with the original sidecar's TypeScript client. Each client frame is a turn
 * {@code {agent_id, user_message, conversation_id?, options?}}, or the continuation of one whose reply called tools
 * {@code {conversation_id, tool_results: [{id, content}]}}; the server answers token frames and {@code tool_call}
 * frames, then {@code done} once the turn is durable (finish_reason {@code tool_calls} when the client is to run
 * the calls and continue). Bad input (malformed JSON, not an object, a binary frame, missing or
 * mistyped fields, an unknown agent) gets one {@code error} frame and a close. The socket stays open for more
 * turns and remembers nothing between frames. A client that goes away, cleanly or not, cancels its turns.
 *
 * <p>One instance per connection. Client frames arrive on the connection's thread; the engine's thread only
 * enqueues frames to the connection's {@link TokenOutbox}, and a virtual thread per connection writes them, so a
 * slow client stalls nobody else (it gets its turns cancelled when {@code bufferedTokens} frames are pending).
 */
public final class WsChat implements WsListener, WebSockets.Socket {
    private final ChatService chat;
    private final EngineGate gate;
    private final Metrics metrics;
    private final Auth auth;
    private final Cors cors;
    private final WebSockets sockets;
    private final long pingNanos;
    private final TokenOutbox outbox;
    private final Set<Turn> active = ConcurrentHashMap.newKeySet();
    private final StringBuilder partial = new StringBuilder();
    private volatile int closeCode = WsCloseCodes.NORMAL_CLOSE;
    private volatile String closeReason = "";
    private volatile SocketAddress remote;
    private final CountDownLatch writerDone = new CountDownLatch(1);

    public WsChat(ChatService chat, EngineGate gate, Metrics metrics, Auth auth, Cors cors, StreamSettings settings,
                  WebSockets sockets) {
        this.chat = chat;
        this.gate = gate;
        this.metrics = metrics;
        this.auth = auth;
        this.cors = cors;
        this.sockets = sockets;
        this.pingNanos = settings.wsPing().toNanos();
        this.outbox = new TokenOutbox(settings.bufferedTokens());
    }

    /** The endpoint asked for over plain HTTP: 426, with a hint. */
    public static void refusePlainHttp(ServerRequest req, ServerResponse res) {
        Errors.send(req, res, new ApiException(426, "upgrade_required", "this is a WebSocket endpoint: connect with ws://"));
    }

    @Override
    public Optional<Headers> onHttpUpgrade(HttpPrologue prologue, Headers headers) throws WsUpgradeException {
        Optional<String> origin = headers.first(HeaderNames.ORIGIN);
        if (origin.isPresent() && !cors.allows(origin.get(), headers.first(HeaderNames.HOST))) {
            // declined: the request falls through to HTTP routing, where the CORS filter answers 403
            throw new WsUpgradeException(cors.refusal(origin.get()));
        }
        if (!auth.allows(prologue, headers)) {
            // declined: the request falls through to HTTP routing, where the auth filter answers 401
            throw new WsUpgradeException("missing or wrong token");
        }
        return Optional.empty();
    }

    @Override
    public void onOpen(WsSession session) {
        Thread connection = Thread.currentThread();
        remote = session.socketContext().remotePeer().address();
        Thread.ofVirtual().name("ws-writer").start(() -> writeLoop(session));
        if (!sockets.tryOpen(this, remote)) {
            fail(WsCloseCodes.TRY_AGAIN_LATER, sockets.refusal());
        }
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
        if (outbox.isClosed()) {
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
        if (!outbox.isClosed()) {
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
            outbox.add(error(e.detail()));
            return;
        }
        String perSocket = sockets.perSocketRefusal(active.size());
        if (perSocket != null) {
            outbox.add(error(perSocket));
            return;
        }
        Optional<TurnAdmission.Slot> slot = sockets.tryAdmit(remote);
        if (slot.isEmpty()) {
            outbox.add(error(sockets.perClientRefusal()));
            return;
        }
        try {
            start(input, slot.get());
        } catch (RuntimeException e) {
            slot.get().close();
            throw e;
        }
    }

    private void start(TurnInput input, TurnAdmission.Slot slot) {
        String quotedId = JsonText.quote(input.conversationId());
        TurnMeter meter = new TurnMeter(metrics, new TokenListener() {
            @Override
            public void onToken(String delta) {
                enqueueToken(quotedId, delta);
            }

            @Override
            public void onToolCall(ToolCall call) {
                StringBuilder sb = new StringBuilder(96 + call.arguments().length());
                sb.append('{');
                TurnFormats.toolCallFields(sb, call);
                sb.append(",\"conversation_id\":").append(quotedId).append('}');
                outbox.add(sb.toString()); // never dropped for want of room: the client's loop needs every call
            }
        });
        Turn turn;
        try {
            turn = chat.startTurn(input.toRequest(), meter);
        } catch (SessionException e) {
            meter.refused();
            slot.close();
            switch (e.kind()) {
                case BUSY, LOG_UNAVAILABLE -> outbox.add(error(e.getMessage()));
                case SHUTTING_DOWN -> fail(WsCloseCodes.GOING_AWAY, e.getMessage());
                default -> fail(WsCloseCodes.VIOLATED_POLICY, e.getMessage());
            }
            return;
        } catch (RuntimeException e) {
            meter.refused();
            slot.close();
            ApiException api = Errors.toApi(e);
            if (api.status() == 400) {
                fail(WsCloseCodes.VIOLATED_POLICY, api.detail());
            } else {
                outbox.add(error(api.detail()));
            }
            return;
        }
        meter.follow(turn.result());
        active.add(turn);
        if (outbox.isClosed()) {
            turn.cancel();
        }
        String doneId = JsonText.quote(turn.conversationId());
        turn.result().whenComplete((r, e) -> {
            active.remove(turn);
            slot.close();
            if (e != null) {
                ApiException api = Errors.toApi(e);
                if (api.status() == 503) {
                    gate.markUnavailable(api.detail());
                }
                outbox.add(error(api.detail()));
            } else if (r.finishReason() != FinishReason.CANCELLED) {
                outbox.add(done(doneId, r));
            }
        });
    }

    private void enqueueToken(String quotedId, String delta) {
        StringBuilder sb = new StringBuilder(48 + delta.length() + quotedId.length());
        sb.append("{\"type\":\"token\",\"token\":");
        JsonText.quoteInto(sb, delta);
        sb.append(",\"conversation_id\":").append(quotedId).append('}');
        if (!outbox.offer(sb.toString())) {
            fail(WsCloseCodes.TRY_AGAIN_LATER, "client reads too slowly: turn cancelled");
        }
    }

    private static String done(String quotedId, TurnResult r) {
        return "{\"type\":\"done\",\"conversation_id\":" + quotedId
                + ",\"finish_reason\":\"" + r.finishReason().wireName() + "\"}";
    }

    private static String error(String message) {
        return "{\"type\":\"error\",\"message\":" + JsonText.quote(message == null ? "error" : message) + "}";
    }

    /** One error frame, then close; turns under way are cancelled. */
    private void fail(int code, String message) {
        if (outbox.isClosed()) {
            return;
        }
        outbox.add(error(message));
        closeCode = code;
        closeReason = switch (code) {
            case WsCloseCodes.VIOLATED_POLICY -> "bad request";
            case WsCloseCodes.GOING_AWAY -> "shutting down";
            case WsCloseCodes.TRY_AGAIN_LATER -> "try again later";
            case WsCloseCodes.TOO_BIG -> "message too big";
            default -> "closing";
        };
        outbox.close();
        cancelAll();
    }

    /** The client went away: nothing more to write, not even a close frame. */
    private void gone() {
        if (!outbox.isClosed()) {
            closeCode = -1;
            outbox.close();
        }
        cancelAll();
        sockets.closed(this);
    }

    @Override
    public void goingAway() {
        fail(WsCloseCodes.GOING_AWAY, "server shutting down");
    }

    @Override
    public boolean awaitClosed(long nanos) throws InterruptedException {
        return writerDone.await(nanos, TimeUnit.NANOSECONDS);
    }

    private void cancelAll() {
        for (Turn t : active) {
            t.cancel();
        }
    }

    /** Writes the outbox in order until it is closed, then the close frame unless the client went away. */
    private void writeLoop(WsSession session) {
        WsFrameWriter writer = new WsFrameWriter(session);
        try {
            outbox.drainTo(writer, pingNanos);
            writer.flush();
            if (closeCode > 0) {
                session.close(closeCode, closeReason);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException | RuntimeException e) {
            // the connection broke while writing
            gone();
        } finally {
            writerDone.countDown();
            sockets.closed(this);
        }
    }
}
