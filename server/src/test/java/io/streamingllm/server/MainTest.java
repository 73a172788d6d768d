package io.streamingllm.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real entry point in a child JVM: bad configuration, --host/--port, SIGTERM. */
class MainTest {
    @TempDir
    Path dir;

    private Process launch(Map<String, String> env, String... args) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        List<String> cmd = new ArrayList<>(List.of(java, "-cp", System.getProperty("java.class.path"),
                "-Djava.util.logging.config.file=" + Path.of("src/test/resources/logging.properties").toAbsolutePath(),
                Main.class.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("STREAMING_LLM_"));
        pb.environment().put("STREAMING_LLM_DATA_DIR", dir.resolve("data").toString());
        pb.environment().put("STREAMING_LLM_AGENTS_DIR", dir.resolve("agents").toString());
        pb.environment().putAll(env);
        return pb.start();
    }

    @Test
    void invalidConfigurationStopsWithOneLineAndExit2() throws Exception {
        Process p = launch(Map.of("STREAMING_LLM_PORT", "abc"));
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertEquals(2, p.exitValue());
        assertEquals(1, out.lines().count(), out);
        assertTrue(out.contains("STREAMING_LLM_PORT"), out);

        Process local = launch(Map.of("STREAMING_LLM_MODEL", "gguf:/no/such/model.gguf"));
        assertTrue(local.waitFor(30, TimeUnit.SECONDS));
        String localOut = new String(local.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertEquals(2, local.exitValue());
        assertEquals(1, localOut.lines().count(), localOut);
    }

    @Test
    void argumentsOverrideTheEnvironmentAndSigtermExitsZero() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0)) {
            port = free.getLocalPort();
        }
        Process p = launch(Map.of("STREAMING_LLM_MODEL", "echo", "STREAMING_LLM_PORT", "1"),
                "--host", "127.0.0.1", "--port", String.valueOf(port));
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        List<String> seen = new ArrayList<>();
        String line;
        while ((line = out.readLine()) != null) {
            seen.add(line);
            if (line.contains("engine echo")) {
                break;
            }
        }
        assertTrue(seen.stream().anyMatch(l -> l.contains("listening on http://127.0.0.1:" + port)), seen.toString());
        assertTrue(seen.stream().anyMatch(l -> l.contains("engine echo model echo: ready")), seen.toString());
        try (HttpClient http = HttpClient.newHttpClient()) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/healthz"))
                    .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode());
        }
        p.destroy(); // SIGTERM
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue());
    }

    @Test
    void unknownArgumentsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Main.withArgs(Map.of(), new String[]{"--verbose"}));
        assertThrows(IllegalArgumentException.class, () -> Main.withArgs(Map.of(), new String[]{"--port"}));
        assertEquals("9000", Main.withArgs(Map.of("STREAMING_LLM_PORT", "1"), new String[]{"--port", "9000"})
                .get("STREAMING_LLM_PORT"));
    }
}
