package io.streamingllm.server;

import jakarta.json.JsonObject;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertNotNull;

/** A JDK WebSocket client that queues the server's text frames and remembers the close. */
final class WsClient implements WebSocket.Listener, AutoCloseable {
    private final LinkedBlockingQueue<String> frames = new LinkedBlockingQueue<>();
    private final CompletableFuture<Integer> closed = new CompletableFuture<>();
    private final StringBuilder partial = new StringBuilder();
    private final HttpClient client = HttpClient.newHttpClient();
    final CountDownLatch pinged = new CountDownLatch(1);
    final WebSocket socket;

    private WsClient(URI uri) {
        this.socket = client.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5))
                .buildAsync(uri, this).orTimeout(10, TimeUnit.SECONDS).join();
    }

    static WsClient connect(URI httpBase, String query) {
        URI ws = URI.create("ws://" + httpBase.getHost() + ":" + httpBase.getPort() + "/ws/chat" + query);
        return new WsClient(ws);
    }

    void send(String text) {
        socket.sendText(text, true).orTimeout(10, TimeUnit.SECONDS).join();
    }

    JsonObject next() throws InterruptedException {
        String frame = frames.poll(20, TimeUnit.SECONDS);
        assertNotNull(frame, "no frame from the server within 20 s");
        return TestSidecar.json(frame);
    }

    /** Reads token frames until {@code done}; returns the tokens concatenated, and the done frame. */
    Reply readTurn() throws InterruptedException {
        StringBuilder text = new StringBuilder();
        int tokens = 0;
        while (true) {
            JsonObject f = next();
            switch (f.getString("type")) {
                case "token" -> {
                    text.append(f.getString("token"));
                    tokens++;
                }
                case "done" -> {
                    return new Reply(text.toString(), tokens, f);
                }
                default -> throw new AssertionError("unexpected frame " + f);
            }
        }
    }

    record Reply(String text, int tokens, JsonObject done) {
    }

    int awaitClose() throws Exception {
        return closed.get(20, TimeUnit.SECONDS);
    }

    boolean isClosed() {
        return closed.isDone();
    }

    @Override
    public void onOpen(WebSocket webSocket) {
        webSocket.request(1);
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
            frames.add(partial.toString());
            partial.setLength(0);
        }
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
        webSocket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onPing(WebSocket webSocket, ByteBuffer message) {
        pinged.countDown();
        return WebSocket.Listener.super.onPing(webSocket, message);
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        closed.complete(statusCode);
        return null;
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        closed.complete(-1);
    }

    @Override
    public void close() {
        socket.abort();
        client.close();
    }
}
