package io.streamingllm.server;

import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AgentRoutesTest {
    @TempDir
    Path dir;

    @Test
    void listGetPutDelete() {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            JsonArray seeded = TestSidecar.json(s.get("/agents").body()).getJsonArray("agents");
            assertTrue(seeded.stream().anyMatch(a -> a.asJsonObject().getString("id").equals("planner")));
            assertTrue(seeded.stream().anyMatch(a -> a.asJsonObject().getString("id").equals("researcher")));

            HttpResponse<String> put = s.put("/agents/coder",
                    "{\"name\":\"  Coder \",\"system_prompt\":\" You write code. \",\"markdown_context\":\"# Coder\\nTests first.\"}");
            assertEquals(200, put.statusCode(), put.body());
            JsonObject saved = TestSidecar.json(put.body());
            assertEquals("coder", saved.getString("id"));
            assertEquals("Coder", saved.getString("name"), "trimmed");
            assertEquals("You write code.", saved.getString("system_prompt"));
            assertTrue(Files.exists(s.config.agentsDir().resolve("coder.md")));

            JsonObject got = TestSidecar.json(s.get("/agents/coder").body());
            assertEquals(saved, got);
            assertEquals(404, s.get("/agents/ghost").statusCode());

            HttpResponse<String> mismatch = s.put("/agents/coder", "{\"id\":\"other\",\"name\":\"x\"}");
            assertEquals(400, mismatch.statusCode());

            // the agent is usable right away
            HttpResponse<String> turn = s.post("/conversations/new/messages",
                    "{\"agent_id\":\"coder\",\"user_message\":\"hi\"}", "Accept", "application/x-ndjson");
            assertEquals(200, turn.statusCode());

            assertEquals(204, s.delete("/agents/coder").statusCode());
            assertEquals(404, s.delete("/agents/coder").statusCode());
            assertFalse(Files.exists(s.config.agentsDir().resolve("coder.md")));
            assertEquals(404, s.get("/agents/coder").statusCode());
        }
    }
}
