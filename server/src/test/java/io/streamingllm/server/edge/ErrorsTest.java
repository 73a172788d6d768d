package io.streamingllm.server.edge;

import io.helidon.common.socket.SocketOptions;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.streamingllm.core.testing.LogCapture;
import io.streamingllm.server.limits.ClientConnections;
import io.streamingllm.server.limits.ClientGone;
import io.streamingllm.server.limits.ConnectionCap;
import org.junit.jupiter.api.Test;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The error answer of a request whose client has gone: a request can fail after its client reset the connection
 * (the sidecar began shutting down, the upstream failed as the client left), and its error answer then cannot be
 * written. That is one log line, as for any answer a client dropped, never Helidon's stack trace of a failed error
 * handler.
 */
class ErrorsTest {
    private static final String DROPPED = "a client dropped its connection before its answer was written";

    @Test
    void anErrorForAClientThatResetItsConnectionIsOneLineAndNoStackTrace() throws Exception {
        CountDownLatch requestRead = new CountDownLatch(1);
        ClientConnections connections = new ClientConnections(SocketOptions.builder().build(), Duration.ofSeconds(30), 16);
        HttpRouting.Builder routing = HttpRouting.builder().addFilter(new ConnectionCap(connections, "/healthz"));
        Errors.register(routing);
        routing.post("/work", (req, res) -> {
            req.content().as(String.class);
            requestRead.countDown();
            // work that fails once its client has gone, as a turn cut short by shutdown does
            CompletableFuture<String> work = new CompletableFuture<>();
            res.send(ClientGone.await(req, work,
                    () -> work.completeExceptionally(new ApiException(503, "shutting_down", "the sidecar is shutting down"))));
        });
        try (LogCapture log = LogCapture.start()) {
            WebServer server = WebServer.builder()
                    .host("127.0.0.1").port(0)
                    .shutdownHook(false)
                    .featuresDiscoverServices(false)
                    .connectionOptions(connections)
                    // stop() waits this long for the connection's handler to end, so its log is complete after it
                    .shutdownGracePeriod(Duration.ofSeconds(10))
                    .routing(routing)
                    .build()
                    .start();
            try {
                try (Socket client = new Socket()) {
                    client.connect(new InetSocketAddress("127.0.0.1", server.port()), 5_000);
                    OutputStream out = client.getOutputStream();
                    out.write(("POST /work HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
                            .getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    assertTrue(requestRead.await(10, TimeUnit.SECONDS), "the server read the request");
                    client.setSoLinger(true, 0); // a reset, as a client that crashed
                }
                assertTrue(log.await(DROPPED, Duration.ofSeconds(10)), "the failed write of the error answer is logged");
            } finally {
                server.stop();
            }
            assertEquals(List.of(), log.stackTraces(), "no stack trace");
            assertEquals(1, log.count("dropped"), "one line for the dropped connection");
        }
    }
}
