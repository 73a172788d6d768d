package io.streamingllm.core.engine.openai;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The fast path reads exactly what the JSON parser reads, and leaves everything else to it. */
class PlainChunksTest {
    private static String fast(String json) {
        byte[] b = ("xx" + json + "yy").getBytes(StandardCharsets.UTF_8);
        int len = json.getBytes(StandardCharsets.UTF_8).length;
        return PlainChunks.delta(b, 2, len);
    }

    private static String parsed(String json) {
        JsonObject o = Json.createReader(new StringReader(json)).readObject();
        JsonObject delta = o.getJsonArray("choices").getJsonObject(0).getJsonObject("delta");
        return delta.containsKey("content") && !delta.isNull("content") ? delta.getString("content") : "";
    }

    private static String chunk(String delta) {
        return "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1735689600,\"model\":\"m\","
                + "\"system_fingerprint\":\"fp_x\",\"choices\":[{\"index\":0,\"delta\":" + delta
                + ",\"logprobs\":null,\"finish_reason\":null}]}";
    }

    @Test
    void plainChunksGiveTheSameContentAsTheParser() {
        for (String delta : List.of("{\"content\":\"Hello\"}", "{\"role\":\"assistant\",\"content\":\"\"}", "{}",
                "{\"content\":\" w\\u00e9 \\\"q\\\" \\\\ \\n\\t\\/ \\ud83d\\ude00\"}", "{\"content\":\"déjà vu 😀 日本\"}",
                "{\"content\":null}", "{\"content\":\"<b>&amp;</b>\",\"reasoning_content\":null}")) {
            String json = chunk(delta);
            assertEquals(parsed(json), fast(json), json);
        }
        String vllmWithUsage = "{\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{"
                + "\"index\":0,\"delta\":{\"content\":\"x\"},\"logprobs\":null,\"finish_reason\":null,\"stop_reason\":null}],"
                + "\"usage\":null}";
        assertEquals("x", fast(vllmWithUsage));
        String llamaServer = "{\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"content\":\" a\"}}],"
                + "\"created\":1,\"id\":\"c\",\"model\":\"m\",\"system_fingerprint\":\"b1\",\"object\":\"chat.completion.chunk\"}";
        assertEquals(" a", fast(llamaServer));
    }

    @Test
    void everythingElseGoesToTheParser() {
        for (String json : List.of(
                chunk("{\"content\":\"x\"}").replace("\"finish_reason\":null", "\"finish_reason\":\"stop\""),
                "{\"id\":\"c\",\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":2,\"total_tokens\":3}}",
                chunk("{\"content\":\"x\"}").replace("}]}", "}],\"usage\":{\"prompt_tokens\":1}}"),
                "{\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}",
                chunk("{\"content\":\"x\"}").replace("\"model\":\"m\"", "\"model\": \"m\""),
                chunk("{\"content\":\"x\"}").replace("}]}", "}],\"timings\":{\"predicted_n\":1}}"),
                chunk("{\"content\":\"x\"}").replace("}]}", "},{\"index\":1,\"delta\":{}}]}"),
                chunk("{\"tool_calls\":[{\"index\":0}]}"),
                chunk("{\"content\":\"x\"}").substring(0, 60),
                chunk("{\"content\":\"a\u0001b\"}"),
                "{\"id\":\"c\",\"object\":\"chat.completion.chunk\"}",
                "[DONE]", "")) {
            assertNull(fast(json), json);
        }
    }
}
