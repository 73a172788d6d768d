package io.streamingllm.server;

import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.local.gguf.GgmlType;
import io.streamingllm.local.testing.RandomModel;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code STREAMING_LLM_MODEL=gguf:…} served on every kind of route by the pure-Java engine, from a small
 * random-weight model the test writes (no Ollama, no shared files).
 */
class LocalEngineServedTest {
    @TempDir
    Path dir;
    @TempDir
    Path models;

    @Test
    void ggufModelAnswersOverWebSocketSseTheOllamaAndTheOpenAiApi() throws Exception {
        Path model = models.resolve("tiny-q8.gguf");
        RandomModel.write(model, "llama", GgmlType.Q8_0, 7);
        try (TestSidecar s = TestSidecar.fromModel(dir, "gguf:" + model,
                Map.of(SidecarConfig.MAX_NEW_TOKENS, "6", SidecarConfig.RECENT_SIZE, "96", SidecarConfig.START_SIZE, "4"))) {
            assertEquals(200, s.get("/readyz").statusCode());

            try (WsClient ws = WsClient.connect(s.base, "")) {
                for (int turn = 0; turn < 3; turn++) {
                    ws.send("{\"agent_id\":\"planner\",\"conversation_id\":\"local-ws\",\"user_message\":\"hello number "
                            + turn + "\",\"options\":{\"temperature\":0,\"max_new_tokens\":4}}");
                    WsClient.Reply reply = ws.readTurn();
                    assertEquals("done", reply.done().getString("type"));
                    assertTrue(reply.tokens() >= 1 && reply.tokens() <= 4, "tokens: " + reply.tokens());
                }
            }
            JsonObject conversation = TestSidecar.json(s.get("/conversations/local-ws").body());
            assertEquals(3, conversation.getInt("turns"));
            assertTrue(conversation.getJsonObject("window").getInt("sink_tokens") > 0);

            HttpResponse<String> sse = s.post("/conversations/new/messages",
                    "{\"agent_id\":\"researcher\",\"user_message\":\"tell me\",\"options\":{\"max_new_tokens\":3}}",
                    "Accept", "text/event-stream");
            assertEquals(200, sse.statusCode());
            assertTrue(sse.body().contains("event: done"), sse.body());

            HttpResponse<String> chat = s.post("/api/chat", "{\"model\":\"tiny-q8\",\"stream\":false,\"options\":{\"num_predict\":3,"
                    + "\"temperature\":0},\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
            assertEquals(200, chat.statusCode(), chat.body());
            JsonObject one = TestSidecar.json(chat.body());
            assertTrue(one.getBoolean("done"));
            assertTrue(one.getInt("eval_count") >= 1 && one.getInt("eval_count") <= 3, one.toString());
            assertTrue(one.getInt("prompt_eval_count") > 0, "exact prompt tokens from the model's tokenizer");

            // the OpenAI-compatible API: the loaded model by its file's name, a tool's result taken as a message
            JsonObject models = TestSidecar.json(s.get("/v1/models").body());
            assertEquals("tiny-q8", models.getJsonArray("data").getJsonObject(0).getString("id"), models.toString());
            HttpResponse<String> completion = s.post("/v1/chat/completions", "{\"model\":\"tiny-q8\",\"max_tokens\":3,"
                    + "\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"what is the weather\"},"
                    + "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c1\",\"type\":\"function\","
                    + "\"function\":{\"name\":\"get_weather\",\"arguments\":\"{}\"}}]},{\"role\":\"tool\",\"tool_call_id\":\"c1\","
                    + "\"content\":\"sunny\"}]}");
            assertEquals(200, completion.statusCode(), completion.body());
            JsonObject usage = TestSidecar.json(completion.body()).getJsonObject("usage");
            assertTrue(usage.getInt("completion_tokens") >= 1 && usage.getInt("completion_tokens") <= 3, usage.toString());
            HttpResponse<String> other = s.post("/v1/chat/completions", "{\"model\":\"tiny\",\"messages\":[{\"role\":"
                    + "\"user\",\"content\":\"hi\"}]}");
            assertEquals(404, other.statusCode(), other.body());

            JsonObject tags = TestSidecar.json(s.get("/api/tags").body());
            assertEquals(1, tags.getJsonArray("models").size(), tags.toString());
            s.assertNothingOutsideDataDirs();
        }
    }

    @Test
    void toolChoiceNamingAFunctionMakesTheLocalModelCallItOnTheOpenAiApi() throws Exception {
        Path model = models.resolve("qwen-tools.gguf");
        RandomModel.writeWithTemplate(model, "qwen2", GgmlType.Q8_0, 5, "{%- if tools %}<|im_start|>system\n# Tools<tools>"
                + "{{ tool | tojson }}</tools><tool_call></tool_call>{%- endif %}{%- for m in messages %}<|im_start|>"
                + "{{ m.role }}\n{{ m.content }}<|im_end|>\n{%- endfor %}", List.of("<|im_start|>", "<|im_end|>"));
        String request = "{\"model\":\"qwen-tools\",\"temperature\":1,\"seed\":3,\"tools\":[{\"type\":\"function\","
                + "\"function\":{\"name\":\"get_weather\",\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":"
                + "{\"type\":\"string\",\"maxLength\":8}},\"required\":[\"city\"]}}},{\"type\":\"function\",\"function\":"
                + "{\"name\":\"get_time\"}}],\"tool_choice\":{\"type\":\"function\",\"function\":{\"name\":\"get_weather\"}},"
                + "\"messages\":[{\"role\":\"user\",\"content\":\"weather in paris?\"}]";
        try (TestSidecar s = TestSidecar.fromModel(dir, "gguf:" + model, Map.of(SidecarConfig.MAX_NEW_TOKENS, "150"))) {
            HttpResponse<String> r = s.post("/v1/chat/completions", request + ",\"parallel_tool_calls\":false}");
            assertEquals(200, r.statusCode(), r.body());
            JsonObject choice = TestSidecar.json(r.body()).getJsonArray("choices").getJsonObject(0);
            assertEquals("tool_calls", choice.getString("finish_reason"), r.body());
            JsonObject call = choice.getJsonObject("message").getJsonArray("tool_calls").getJsonObject(0);
            assertEquals("get_weather", call.getJsonObject("function").getString("name"), r.body());
            JsonObject args = TestSidecar.json(call.getJsonObject("function").getString("arguments"));
            assertTrue(args.containsKey("city") && args.keySet().size() == 1, "arguments within the schema: " + args);

            HttpResponse<String> tooFew = s.post("/v1/chat/completions", request + ",\"max_tokens\":10}");
            assertEquals(400, tooFew.statusCode(), tooFew.body());
            assertTrue(OpenAiApiTest.error(tooFew).getString("message").startsWith("max_new_tokens 10 is too small for the "
                    + "tool call tool_choice requires"), tooFew.body());
        }
    }

    @Test
    void toolsForAModelWhoseTemplateHasNoToolFormatAre400OnEveryApi() throws Exception {
        Path model = models.resolve("plain.gguf");
        RandomModel.write(model, "llama", GgmlType.Q8_0, 8);
        String tools = "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"parameters\":"
                + "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}}}]";
        try (TestSidecar s = TestSidecar.fromModel(dir, "gguf:" + model, Map.of(SidecarConfig.MAX_NEW_TOKENS, "3"))) {
            HttpResponse<String> v1 = s.post("/v1/chat/completions", "{\"model\":\"plain\"," + tools
                    + ",\"messages\":[{\"role\":\"user\",\"content\":\"weather?\"}]}");
            assertEquals(400, v1.statusCode(), v1.body());
            assertTrue(OpenAiApiTest.error(v1).getString("message").startsWith("this model's chat template has no tool format"),
                    v1.body());
            HttpResponse<String> ollama = s.post("/api/chat", "{\"model\":\"plain\"," + tools
                    + ",\"messages\":[{\"role\":\"user\",\"content\":\"weather?\"}]}");
            assertEquals(400, ollama.statusCode(), ollama.body());
            assertTrue(ollama.body().contains("this model's chat template has no tool format"), ollama.body());
            assertEquals(200, s.put("/agents/weather", NativeToolsTest.AGENT).statusCode());
            HttpResponse<String> nativeTurn = s.post("/conversations/new/messages",
                    "{\"agent_id\":\"weather\",\"user_message\":\"weather?\"}");
            assertEquals(400, nativeTurn.statusCode(), nativeTurn.body());
            assertTrue(nativeTurn.body().contains("this model's chat template has no tool format"), nativeTurn.body());
            // without tools the same model answers
            assertEquals(200, s.post("/v1/chat/completions", "{\"model\":\"plain\",\"messages\":[{\"role\":\"user\","
                    + "\"content\":\"weather?\"}]}").statusCode());
        }
    }
}
