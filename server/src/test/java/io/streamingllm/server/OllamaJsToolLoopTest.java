package io.streamingllm.server;

import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.testing.FakeOpenAi;
import jakarta.json.JsonArray;
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
 * The official {@code ollama} npm client runs a tool loop (two calls, their results, the final answer) through the
 * sidecar's {@code /api/chat}, streamed and whole, in front of an OpenAI-compatible upstream that streams its calls
 * as OpenAI does (fragments, ids): the results the client names by tool reach the upstream with the calls' ids.
 */
class OllamaJsToolLoopTest {
    private static final String MODEL = "gpt-4o-mini";

    @TempDir
    Path dir;

    /** The upstream: calls get_weather for Paris and Oslo, then answers with the results it was given. */
    private static FakeOpenAi.Reply weatherAgent(FakeOpenAi.Exchange ex) {
        JsonArray messages = ex.json().getJsonArray("messages");
        if (!"tool".equals(messages.getJsonObject(messages.size() - 1).getString("role"))) {
            return FakeOpenAi.Reply.tokens().toolCalls(new FakeOpenAi.Call("call_p", "get_weather", "{\"city\":\"Paris\"}"),
                    new FakeOpenAi.Call("call_o", "get_weather", "{\"city\":\"Oslo\"}"));
        }
        StringBuilder answer = new StringBuilder();
        for (JsonObject m : messages.getValuesAs(JsonObject.class)) {
            if ("tool".equals(m.getString("role"))) {
                answer.append(answer.isEmpty() ? "" : ", ").append(m.getString("tool_call_id")).append('=')
                        .append(m.getString("content"));
            }
        }
        return FakeOpenAi.Reply.tokens(answer.toString());
    }

    @Test
    void officialOllamaClientRunsAToolLoopAgainstAnOpenAiUpstream() throws Exception {
        assertTrue(OllamaJsClientTest.commandWorks(List.of("node", "--version")), "node is needed to run the ollama JS client");
        if (!Files.isDirectory(OllamaJsClientTest.JS.resolve("node_modules/ollama"))) {
            assertTrue(OllamaJsClientTest.commandWorks(List.of("npm", "install", "--no-audit", "--no-fund")),
                    "npm install of the ollama client failed: is the npm registry reachable?");
        }
        try (FakeOpenAi fake = FakeOpenAi.start(MODEL);
             TestSidecar s = TestSidecar.fromModel(dir, "openai:" + MODEL, Map.of(SidecarConfig.OPENAI_URL,
                     fake.baseUri().toString(), SidecarConfig.OPENAI_API_KEY, "sk-x"))) {
            fake.reply(OllamaJsToolLoopTest::weatherAgent);
            Process p = new ProcessBuilder("node", "check-ollama-js-tools.mjs", s.base.toString(), MODEL)
                    .directory(OllamaJsClientTest.JS.toFile()).redirectErrorStream(true).start();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "node finished");
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), out);
            JsonObject seen = TestSidecar.json(out.lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b)
                    .orElseThrow(() -> new AssertionError(out)));
            for (String mode : List.of("streamed", "whole")) {
                JsonObject run = seen.getJsonObject(mode);
                JsonArray calls = run.getJsonArray("calls");
                assertEquals(2, calls.size(), mode + ": " + run);
                assertEquals("Paris", calls.getJsonObject(0).getString("city"));
                assertEquals("Oslo", calls.getJsonObject(1).getString("city"));
                assertEquals("call_p=21 C, call_o=3 C", run.getString("answer"), mode + ": each result matched to its call");
            }
        }
    }
}
