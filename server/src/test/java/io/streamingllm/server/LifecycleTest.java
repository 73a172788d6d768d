package io.streamingllm.server;

import io.streamingllm.core.config.SidecarConfig;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The sidecar process under stress from outside: descriptors running out, SIGTERM with WebSockets open. */
class LifecycleTest {
    @TempDir
    Path dir;

    @Test
    void runningOutOfDescriptorsShedsLoadAndTheListenerRecovers() throws Exception {
        try (ChildSidecar child = ChildSidecar.start(dir, 256, Map.of());
             HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
            List<Socket> flood = new ArrayList<>();
            try {
                for (int i = 0; i < 400; i++) {
                    Socket s = new Socket();
                    try {
                        s.connect(new InetSocketAddress("127.0.0.1", child.port), 2_000);
                        flood.add(s);
                    } catch (IOException refused) {
                        s.close();
                    }
                }
                assertTrue(flood.size() > 256, "more connections than the sidecar has descriptors: " + flood.size());
            } finally {
                for (Socket s : flood) {
                    s.close();
                }
            }
            HttpRequest healthz = HttpRequest.newBuilder(child.base.resolve("/healthz"))
                    .timeout(Duration.ofSeconds(5)).build();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            int status = -1;
            while (status != 200 && System.nanoTime() < deadline) {
                try {
                    status = http.send(healthz, HttpResponse.BodyHandlers.ofString()).statusCode();
                } catch (IOException notYet) {
                    child.process.waitFor(200, TimeUnit.MILLISECONDS); // a pause that ends early if it died
                }
            }
            assertEquals(200, status, "the listener answers again; output: " + child.output());
            assertTrue(child.output().stream().noneMatch(l -> l.contains("terminating")), child.output().toString());
        }
    }

    @Test
    void sigtermGivesRunningWebSocketTurnsAnErrorFrameAndClose1001() throws Exception {
        try (ChildSidecar child = ChildSidecar.start(dir, 4096, Map.of(SidecarConfig.ECHO_DELAY_MS, "100",
                SidecarConfig.SHUTDOWN_GRACE_S, "0"))) {
            WsClient ws = WsClient.connect(child.base, "");
            ws.send("{\"agent_id\":\"planner\",\"user_message\":\"" + "word ".repeat(200) + "\"}");
            assertEquals("token", ws.next().getString("type"));
            child.process.destroy(); // SIGTERM
            JsonObject frame;
            do {
                frame = ws.next();
            } while (frame.getString("type").equals("token"));
            assertEquals("error", frame.getString("type"), frame.toString());
            assertTrue(frame.getString("message").contains("shutting down"), frame.toString());
            assertEquals(1001, ws.awaitClose());
            assertTrue(child.process.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, child.process.exitValue(), child.output().toString());
            ws.close();
        }
    }
}
