package io.streamingllm.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.local.SharedModels;
import jakarta.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ollama's {@code format} on {@code /api/chat} and {@code /api/generate} with the local engine (stories260K):
 * the answer is JSON, the schema's required keys are there, and what the engine cannot enforce is a 400
 * naming it, streaming or not.
 */
class OllamaJsonFormatTest {
    static final String SCHEMA = "{\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\",\"maxLength\":10},"
            + "\"age\":{\"type\":\"integer\"}},\"required\":[\"name\",\"age\"]}";

    @TempDir
    Path dir;

    @Test
    void formatJsonAndSchemasAreEnforcedAndWhatCannotBeIsA400() throws Exception {
        try (TestSidecar s = TestSidecar.fromModel(dir, "gguf:" + SharedModels.stories260K(),
                Map.of(SidecarConfig.MAX_NEW_TOKENS, "64", SidecarConfig.RECENT_SIZE, "256"))) {
            HttpResponse<String> chat = s.post("/api/chat", "{\"model\":\"stories260K\",\"stream\":false,\"format\":\"json\","
                    + "\"options\":{\"seed\":3,\"temperature\":1},\"messages\":[{\"role\":\"user\",\"content\":\"A cat.\"}]}");
            assertEquals(200, chat.statusCode(), chat.body());
            JsonObject answer = TestSidecar.json(TestSidecar.json(chat.body()).getJsonObject("message").getString("content"));
            assertTrue(answer != null);

            HttpResponse<String> generate = s.post("/api/generate", "{\"model\":\"stories260K\",\"format\":" + SCHEMA
                    + ",\"options\":{\"seed\":5,\"temperature\":1},\"prompt\":\"Once upon a time\"}");
            assertEquals(200, generate.statusCode(), generate.body());
            StringBuilder text = new StringBuilder();
            String last = null;
            for (String line : generate.body().split("\n")) {
                if (!line.isBlank()) {
                    JsonObject record = TestSidecar.json(line);
                    text.append(record.getString("response"));
                    last = record.toString();
                }
            }
            assertTrue(last != null && last.contains("\"done\":true") && last.contains("\"done_reason\":\"stop\""), last);
            JsonObject person = TestSidecar.json(text.toString());
            assertTrue(person.containsKey("name") && person.containsKey("age"), person.toString());
            assertTrue(person.getString("name").length() <= 10);

            for (boolean stream : new boolean[] {false, true}) {
                HttpResponse<String> refused = s.post("/api/chat", "{\"stream\":" + stream + ",\"format\":"
                        + "{\"type\":\"object\",\"properties\":{\"when\":{\"type\":\"string\",\"format\":\"date-time\"}}},"
                        + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
                assertEquals(400, refused.statusCode(), refused.body());
                assertTrue(TestSidecar.json(refused.body()).getString("detail").contains("'format' at #/properties/when"),
                        refused.body());
            }
            HttpResponse<String> yaml = s.post("/api/generate", "{\"format\":\"yaml\",\"prompt\":\"hi\"}");
            assertEquals(400, yaml.statusCode(), yaml.body());
            assertTrue(yaml.body().contains("yaml"));
            HttpResponse<String> tooFew = s.post("/api/chat", "{\"stream\":false,\"format\":" + SCHEMA
                    + ",\"options\":{\"num_predict\":5},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
            assertEquals(400, tooFew.statusCode(), tooFew.body());
            assertTrue(tooFew.body().contains("max_new_tokens 5"), tooFew.body());

            // OpenAI's response_format on /v1 is the same constraint
            HttpResponse<String> openAi = s.post("/v1/chat/completions", "{\"model\":\"stories260K\",\"seed\":5,"
                    + "\"temperature\":1,\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"person\","
                    + "\"schema\":" + SCHEMA + "}},\"messages\":[{\"role\":\"user\",\"content\":\"Once upon a time\"}]}");
            assertEquals(200, openAi.statusCode(), openAi.body());
            JsonObject fromV1 = TestSidecar.json(TestSidecar.json(openAi.body()).getJsonArray("choices").getJsonObject(0)
                    .getJsonObject("message").getString("content"));
            assertTrue(fromV1.containsKey("name") && fromV1.containsKey("age"), fromV1.toString());
            HttpResponse<String> badFormat = s.post("/v1/chat/completions", "{\"response_format\":{\"type\":\"yaml\"},"
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
            assertEquals(400, badFormat.statusCode(), badFormat.body());
            assertEquals("response_format", TestSidecar.json(badFormat.body()).getJsonObject("error").getString("param"));
            s.assertNothingOutsideDataDirs();
        }
    }
}
