package io.streamingllm.server;

import io.streamingllm.core.config.SidecarConfig;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The official {@code openai} npm client, pointed at the sidecar's {@code /v1} by its base URL: a whole and a
 * streamed chat with usage, the model list, and its typed errors. Needs node and {@code npm install} in
 * {@code server/src/test/js} (done here when the package is missing); fails, never skips, without them.
 */
class OpenAiJsClientTest {
    @TempDir
    Path dir;

    @Test
    void officialOpenAiClientChatsWithTheSidecar() throws Exception {
        assertTrue(OllamaJsClientTest.commandWorks(List.of("node", "--version")),
                "node is needed to run the official openai JS client");
        if (!Files.isDirectory(OllamaJsClientTest.JS.resolve("node_modules/openai"))) {
            assertTrue(OllamaJsClientTest.commandWorks(List.of("npm", "install", "--no-audit", "--no-fund")),
                    "npm install of the openai client in " + OllamaJsClientTest.JS + " failed: is the npm registry reachable?");
        }
        try (TestSidecar s = TestSidecar.echo(dir, Map.of(SidecarConfig.API_TOKEN, "sekret"))) {
            Process p = new ProcessBuilder("node", "check-openai-js.mjs", s.base + "/v1")
                    .directory(OllamaJsClientTest.JS.toFile()).redirectErrorStream(true).start();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "node finished");
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), out);
            String last = out.lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElseThrow(() -> new AssertionError(out));
            JsonObject seen = TestSidecar.json(last);
            assertEquals("hello from", seen.getString("whole"));
            assertEquals("length", seen.getString("wholeReason"));
            assertEquals(2, seen.getInt("wholeCompletionTokens"));
            assertEquals("stream these words", seen.getString("streamed"));
            assertEquals("stop", seen.getString("finish"));
            assertEquals(3, seen.getJsonObject("usage").getInt("completion_tokens"));
            assertEquals("echo", seen.getJsonArray("models").getString(0));
            JsonObject notFound = seen.getJsonObject("notFound");
            assertEquals("NotFoundError", notFound.getString("type"));
            assertEquals("model_not_found", notFound.getString("code"));
            assertTrue(notFound.getString("message").contains("gpt-4o"), notFound.toString());
            assertEquals("AuthenticationError", seen.getJsonObject("unauthorized").getString("type"));
        }
    }
}
