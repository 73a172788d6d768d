package io.streamingllm.server;

import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The official {@code ollama} npm client, pointed at the sidecar, chats streaming and not. Needs node and
 * {@code npm install} in {@code server/src/test/js} (done here when node_modules is missing); fails, never skips, without them.
 */
class OllamaJsClientTest {
    static final Path JS = Path.of("src/test/js").toAbsolutePath();

    @TempDir
    Path dir;

    @Test
    void officialOllamaClientChatsWithTheSidecar() throws Exception {
        // no skipping: the test command provides node (this machine kind has it) and the npm package (installed here)
        assertTrue(commandWorks(List.of("node", "--version")), "node is needed to run the official ollama JS client");
        if (!Files.isDirectory(JS.resolve("node_modules/ollama"))) {
            assertTrue(commandWorks(List.of("npm", "install", "--no-audit", "--no-fund")),
                    "npm install of the ollama client in " + JS + " failed: is the npm registry reachable?");
        }
        try (TestSidecar s = TestSidecar.echo(dir)) {
            Process p = new ProcessBuilder("node", "check-ollama-js.mjs", s.base.toString())
                    .directory(JS.toFile()).redirectErrorStream(true).start();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "node finished");
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), out);
            String last = out.lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElseThrow(() -> new AssertionError(out));
            JsonObject seen = TestSidecar.json(last);
            assertEquals("hello from javascript", seen.getString("whole"));
            assertTrue(seen.getBoolean("wholeDone"));
            assertEquals("stop", seen.getString("wholeReason"));
            assertEquals("stream these words", seen.getString("streamed"));
            assertEquals(4, seen.getInt("parts"), "three tokens and the final record");
            assertEquals("stop", seen.getString("finalReason"));
            assertEquals(3, seen.getInt("finalEvalCount"));
            assertEquals("generate this", seen.getString("generated"));
            assertEquals("echo", seen.getJsonArray("models").getString(0));
            assertTrue(seen.getBoolean("showHasDetails"));
        }
    }

    static boolean commandWorks(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).directory(JS.toFile()).redirectErrorStream(true).start();
            p.getInputStream().transferTo(OutputStream.nullOutputStream());
            return p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
