package io.streamingllm.server;

import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.local.SharedModels;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * End to end against a real model: one sidecar runs the local engine on stories260K and serves {@code /v1}; a
 * second one, {@code openai:stories260K}, fronts it as it would front vLLM or llama-server. The second must stream
 * exactly the greedy tokens the first produces.
 */
class OpenAiChainTest {
    private static final String REQUEST = """
            {"model":"stories260K","stream":%s,"temperature":0,"max_tokens":24,
             "stream_options":{"include_usage":true},
             "messages":[{"role":"user","content":"Once upon a time, there was a little dog"}]}""";

    @TempDir
    Path upstreamDir;
    @TempDir
    Path frontDir;

    @Test
    void anOpenAiUpstreamSidecarRelaysTheLocalEnginesGreedyTokensOneForOne() throws Exception {
        Path model = SharedModels.stories260K();
        try (TestSidecar upstream = TestSidecar.fromModel(upstreamDir, "gguf:" + model, Map.of());
             TestSidecar front = TestSidecar.fromModel(frontDir, "openai:stories260K",
                     Map.of(SidecarConfig.OPENAI_URL, upstream.base + "/v1"))) {
            HttpResponse<String> ready = front.get("/readyz");
            assertEquals(200, ready.statusCode(), "the front finds stories260K in the upstream's /v1/models: " + ready.body());

            Streamed direct = streamed(upstream);
            Streamed relayed = streamed(front);
            assertTrue(direct.deltas().size() >= 5, "the model writes a few tokens: " + direct.deltas());
            assertEquals(direct.deltas(), relayed.deltas(), "the same tokens, one delta per token, in order");
            assertEquals("length", relayed.finishReason());
            assertEquals(direct.usage().getInt("completion_tokens"), relayed.usage().getInt("completion_tokens"));
            assertEquals(direct.usage().getInt("prompt_tokens"), relayed.usage().getInt("prompt_tokens"),
                    "the front's window sent the prompt unchanged");

            HttpResponse<String> whole = front.post("/v1/chat/completions", REQUEST.formatted("false"));
            assertEquals(200, whole.statusCode(), whole.body());
            String content = TestSidecar.json(whole.body()).getJsonArray("choices").getJsonObject(0)
                    .getJsonObject("message").getString("content");
            assertEquals(String.join("", direct.deltas()), content, "not streamed: the same text");
        }
    }

    private record Streamed(List<String> deltas, String finishReason, JsonObject usage) {
    }

    private static Streamed streamed(TestSidecar sidecar) {
        HttpResponse<String> res = sidecar.post("/v1/chat/completions", REQUEST.formatted("true"));
        assertEquals(200, res.statusCode(), res.body());
        List<String> deltas = new ArrayList<>();
        String finish = null;
        JsonObject usage = null;
        boolean done = false;
        for (String line : res.body().split("\n")) {
            if (!line.startsWith("data: ")) {
                continue;
            }
            String data = line.substring("data: ".length());
            if (data.equals("[DONE]")) {
                done = true;
                continue;
            }
            JsonObject chunk = TestSidecar.json(data);
            if (chunk.containsKey("usage") && chunk.get("usage").getValueType() == JsonValue.ValueType.OBJECT) {
                usage = chunk.getJsonObject("usage");
            }
            for (JsonObject choice : chunk.getJsonArray("choices").getValuesAs(JsonObject.class)) {
                JsonObject delta = choice.getJsonObject("delta");
                if (delta.containsKey("content") && !delta.isNull("content") && !delta.getString("content").isEmpty()) {
                    deltas.add(delta.getString("content"));
                }
                if (choice.containsKey("finish_reason") && !choice.isNull("finish_reason")) {
                    finish = choice.getString("finish_reason");
                }
            }
        }
        assertTrue(done, "the stream ends with [DONE]: " + res.body());
        assertFalse(usage == null, "a usage chunk: " + res.body());
        return new Streamed(deltas, finish, usage);
    }
}
