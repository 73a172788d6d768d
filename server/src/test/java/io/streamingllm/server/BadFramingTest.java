package io.streamingllm.server;

import io.streamingllm.core.config.SidecarConfig;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.DataInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Malformed requests over real sockets get a clear 4xx and never a 500, a hang or silence: negative lengths, bad
 * chunk sizes, bodies that stop early, headers that never end, JSON nested too deep, WebSocket frames too large.
 */
class BadFramingTest {
    private static final String TURN = "{\"model\":\"echo\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    @TempDir
    Path dir;

    @Test
    void aNegativeContentLengthIs400() throws Exception {
        try (TestSidecar s = TestSidecar.echo(dir); RawHttp raw = new RawHttp(s.base)) {
            raw.write("POST /api/chat HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: -5\r\n\r\n{}");
            String r = raw.readResponse(10_000);
            assertEquals(400, RawHttp.status(r), r);
            assertTrue(r.contains("\"error\":\"bad_request\"") && r.contains("Content-Length"), r);
        }
    }

    @Test
    void aChunkSizeThatIsNotHexadecimalIs400() throws Exception {
        try (TestSidecar s = TestSidecar.echo(dir); RawHttp raw = new RawHttp(s.base)) {
            raw.write("POST /api/chat HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                    + "Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n");
            String r = raw.readResponse(10_000);
            assertEquals(400, RawHttp.status(r), r);
            assertTrue(r.contains("malformed request body framing"), r);
        }
    }

    @Test
    void aBodyShorterThanItsContentLengthIsAnswered408AfterTheReadTimeout() throws Exception {
        try (TestSidecar s = TestSidecar.echo(dir, Map.of(SidecarConfig.READ_TIMEOUT_S, "1"));
             RawHttp raw = new RawHttp(s.base)) {
            long start = System.nanoTime();
            raw.write("POST /api/chat HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"model\":");
            String r = raw.readResponse(15_000);
            assertEquals(408, RawHttp.status(r), r);
            assertTrue(r.contains("request_timeout"), r);
            assertTrue(System.nanoTime() - start < 12_000_000_000L, "answered within a few read timeouts");
        }
    }

    @Test
    void headersThatNeverEndAreDroppedAfterTheReadTimeout() throws Exception {
        try (TestSidecar s = TestSidecar.echo(dir, Map.of(SidecarConfig.READ_TIMEOUT_S, "1"));
             RawHttp raw = new RawHttp(s.base)) {
            raw.write("GET /agents HTTP/1.1\r\nHost: t\r\nX-Half: ");
            String r = raw.readUntilClosed(15_000);
            assertTrue(!r.contains("<no close"), "the server closed the connection: " + r);
            // and it still serves others
            assertEquals(200, s.get("/healthz").statusCode());
        }
    }

    @Test
    void jsonNestedDeeperThanTheLimitIs400OverHttp() throws Exception {
        String deep = "[".repeat(1000) + "]".repeat(1000);
        try (TestSidecar s = TestSidecar.echo(dir)) {
            var r = s.post("/api/chat", "{\"model\":\"echo\",\"messages\":" + deep + "}");
            assertEquals(400, r.statusCode(), r.body());
            assertEquals("JSON nested deeper than 64 levels", TestSidecar.json(r.body()).getString("detail"));
            var agent = s.put("/agents/deep", "{\"system_prompt\":" + "{\"a\":".repeat(100) + "1" + "}".repeat(100) + "}");
            assertEquals(400, agent.statusCode(), agent.body());
        }
    }

    @Test
    void jsonNestedTooDeepGetsAnErrorFrameAndAPolicyClose() throws Exception {
        try (TestSidecar s = TestSidecar.echo(dir); WsClient ws = WsClient.connect(s.base, "")) {
            ws.send("{\"agent_id\":\"planner\",\"user_message\":\"x\",\"options\":" + "[".repeat(2000) + "]".repeat(2000) + "}");
            JsonObject error = ws.next();
            assertEquals("error", error.getString("type"));
            assertTrue(error.getString("message").contains("nested deeper than 64"), error.toString());
            assertEquals(1008, ws.awaitClose());
        }
    }

    @Test
    void aSingleWebSocketFrameOverTheLimitGetsAnErrorFrameThenClose1009() throws Exception {
        try (TestSidecar s = TestSidecar.echo(dir); RawHttp raw = new RawHttp(s.base)) {
            raw.write("GET /ws/chat HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
            String upgrade = raw.readResponse(10_000);
            assertTrue(upgrade.startsWith("HTTP/1.1 101"), upgrade);
            byte[] payload = ("{\"agent_id\":\"planner\",\"user_message\":\"" + "a".repeat(3 << 20) + "\"}")
                    .getBytes(StandardCharsets.UTF_8);
            // one frame, FIN + text, 64-bit length, masked as a client must
            ByteBuffer frame = ByteBuffer.allocate(14 + payload.length);
            frame.put((byte) 0x81).put((byte) (0x80 | 127)).putLong(payload.length);
            byte[] mask = {1, 2, 3, 4};
            frame.put(mask);
            for (int i = 0; i < payload.length; i++) {
                frame.put((byte) (payload[i] ^ mask[i & 3]));
            }
            raw.socket.getOutputStream().write(frame.array());
            raw.socket.setSoTimeout(20_000);
            DataInputStream in = new DataInputStream(raw.socket.getInputStream());
            int[] opcode = new int[1];
            byte[] first = serverFrame(in, opcode);
            assertEquals(1, opcode[0], "a text frame first");
            JsonObject error = TestSidecar.json(new String(first, StandardCharsets.UTF_8));
            assertEquals("error", error.getString("type"));
            assertTrue(error.getString("message").contains("larger than"), error.toString());
            byte[] close = serverFrame(in, opcode);
            assertEquals(8, opcode[0], "then a close frame");
            assertEquals(1009, ((close[0] & 0xff) << 8) | (close[1] & 0xff));
        }
    }

    /** The next unmasked server frame's payload, pings skipped; its opcode in {@code opcode[0]}. */
    private static byte[] serverFrame(DataInputStream in, int[] opcode) throws IOException {
        byte[] payload;
        do {
            payload = anyFrame(in, opcode);
        } while (opcode[0] == 9);
        return payload;
    }

    private static byte[] anyFrame(DataInputStream in, int[] opcode) throws IOException {
        int b0 = in.readUnsignedByte();
        int b1 = in.readUnsignedByte();
        opcode[0] = b0 & 0x0f;
        long length = b1 & 0x7f;
        if (length == 126) {
            length = in.readUnsignedShort();
        } else if (length == 127) {
            length = in.readLong();
        }
        byte[] payload = new byte[(int) length];
        in.readFully(payload);
        return payload;
    }
}
