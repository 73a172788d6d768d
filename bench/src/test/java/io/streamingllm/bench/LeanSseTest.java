package io.streamingllm.bench;

import io.streamingllm.core.testing.FakeOpenAi;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The /v1 benchmark's figures are only as right as its client's count of tokens and its notice of failures. */
class LeanSseTest {
    private static final String BODY = "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    @Test
    void countsContentDeltasNotTheRoleChunkAndKeepsTheConnectionForTheNextCall() throws Exception {
        try (FakeOpenAi openai = FakeOpenAi.start("m");
             LeanSse client = LeanSse.connect("127.0.0.1", openai.port(), 5_000)) {
            openai.reply(FakeOpenAi.Reply.tokens(" a", " b", " c"));
            for (int call = 0; call < 2; call++) {
                long before = System.nanoTime();
                LeanSse.Reply reply = client.post(FakeOpenAi.CHAT, null, BODY);
                assertEquals(3, reply.tokens());
                assertNull(reply.error());
                assertTrue(reply.firstTokenNanos() >= before);
            }
            assertEquals(2, openai.requestCount());
            assertEquals(1, openai.openConnections());
        }
    }

    @Test
    void anErrorEventOrAMissingDoneIsAFailedReply() throws Exception {
        try (FakeOpenAi openai = FakeOpenAi.start("m");
             LeanSse client = LeanSse.connect("127.0.0.1", openai.port(), 5_000)) {
            openai.reply(FakeOpenAi.Reply.tokens(" a", " b").errorAfter(1, "upstream broke"));
            LeanSse.Reply broken = client.post(FakeOpenAi.CHAT, null, BODY);
            assertEquals(1, broken.tokens());
            assertTrue(broken.error().contains("upstream broke"), broken.error());
            openai.reply(FakeOpenAi.Reply.tokens(" a").withoutDone());
            assertTrue(client.post(FakeOpenAi.CHAT, null, BODY).error().contains("[DONE]"));
        }
    }

    @Test
    void aRefusalIsAnIoExceptionWithItsStatusAndBody() throws Exception {
        try (FakeOpenAi openai = FakeOpenAi.start("m");
             LeanSse client = LeanSse.connect("127.0.0.1", openai.port(), 5_000)) {
            openai.reply(FakeOpenAi.Reply.rateLimited(3));
            IOException e = assertThrows(IOException.class, () -> client.post(FakeOpenAi.CHAT, "conv-1", BODY));
            assertTrue(e.getMessage().startsWith("HTTP/1.1 429") && e.getMessage().contains("rate_limit_exceeded"), e.getMessage());
        }
    }

    /** The sidecar's writer batches: an event may span chunks and a chunk may hold several events. */
    @Test
    void eventsSplitAcrossChunksAreCountedOnce() throws Exception {
        String events = "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\" x\"}}]}\n\n"
                + ":\n\n"
                + "data: {\"choices\":[{\"delta\":{\"content\":\" y\"}}]}\n\n"
                + "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
        int split = events.indexOf("\" y\"") + 2; // inside the second token's event
        String response = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                + chunk(events.substring(0, split)) + chunk(events.substring(split)) + "0\r\n\r\n";
        try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            CompletableFuture<Void> served = CompletableFuture.runAsync(() -> serveOnce(server, response));
            try (LeanSse client = LeanSse.connect("127.0.0.1", server.getLocalPort(), 5_000)) {
                LeanSse.Reply reply = client.post("/v1/chat/completions", null, BODY);
                assertEquals(2, reply.tokens());
                assertNull(reply.error());
            }
            served.join();
        }
    }

    private static String chunk(String data) {
        return Integer.toHexString(data.getBytes(StandardCharsets.UTF_8).length) + "\r\n" + data + "\r\n";
    }

    /** Reads one request (head and Content-Length body) and writes {@code response}. */
    private static void serveOnce(ServerSocket server, String response) {
        try (Socket s = server.accept()) {
            InputStream in = s.getInputStream();
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                head.append((char) in.read());
            }
            String length = head.toString().lines().filter(l -> l.startsWith("Content-Length:")).findFirst().orElseThrow();
            in.readNBytes(Integer.parseInt(length.substring(15).trim()));
            OutputStream out = s.getOutputStream();
            out.write(response.getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }
}
