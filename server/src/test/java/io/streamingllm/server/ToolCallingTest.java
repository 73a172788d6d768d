package io.streamingllm.server;

import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.testing.FakeOllama;
import io.streamingllm.core.testing.FakeOpenAi;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tool calling through both APIs and both upstream kinds, on the wire: streamed and whole calls in each API's
 * shape, results handed back in each upstream's shape, and 400s naming the field for what cannot be a tool call.
 */
class ToolCallingTest {
    private static final String MODEL = "gpt-4o-mini";
    private static final String TOOLS = "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
            + "\"description\":\"Weather of a city\",\"parameters\":{\"type\":\"object\",\"properties\":"
            + "{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}}]";
    private static final String ARGS = "{\"city\":\"Paris, France \\u00e9t\\u00e9\"}";

    @TempDir
    Path dir;

    private static Map<String, String> env(FakeOpenAi fake) {
        return Map.of(SidecarConfig.OPENAI_URL, fake.baseUri().toString(), SidecarConfig.OPENAI_API_KEY, "sk-x");
    }

    @Test
    void openAiStreamFromAnOpenAiUpstreamCarriesCallFragmentsAndFinishReasonToolCalls() throws Exception {
        try (FakeOpenAi fake = FakeOpenAi.start(MODEL);
             TestSidecar s = TestSidecar.fromModel(dir, "openai:" + MODEL, env(fake))) {
            fake.reply(FakeOpenAi.Reply.tokens().toolCalls(new FakeOpenAi.Call("call_1", "get_weather", ARGS)));
            HttpResponse<String> r = s.post("/v1/chat/completions", "{\"model\":\"" + MODEL + "\",\"stream\":true,"
                    + TOOLS + ",\"tool_choice\":\"required\",\"parallel_tool_calls\":false,"
                    + "\"messages\":[{\"role\":\"user\",\"content\":\"Weather in Paris?\"}]}");
            assertEquals(200, r.statusCode(), r.body());
            StringBuilder arguments = new StringBuilder();
            int fragments = 0;
            String finish = null;
            JsonObject first = null;
            for (String e : OpenAiApiTest.events(r.body())) {
                if (e.equals("[DONE]")) {
                    continue;
                }
                JsonObject choice = TestSidecar.json(e).getJsonArray("choices").getJsonObject(0);
                if (!choice.isNull("finish_reason")) {
                    finish = choice.getString("finish_reason");
                }
                JsonObject delta = choice.getJsonObject("delta");
                if (delta.get("tool_calls") instanceof JsonArray calls) {
                    JsonObject call = calls.getJsonObject(0);
                    assertEquals(0, call.getInt("index"));
                    if (first == null) {
                        first = call;
                    }
                    arguments.append(call.getJsonObject("function").getString("arguments", ""));
                    fragments++;
                }
            }
            assertEquals("call_1", first.getString("id"));
            assertEquals("function", first.getString("type"));
            assertEquals("get_weather", first.getJsonObject("function").getString("name"));
            assertEquals("Paris, France été", TestSidecar.json(arguments.toString()).getString("city"));
            assertTrue(fragments >= 3, "arguments in fragments: " + fragments);
            assertEquals("tool_calls", finish);

            JsonObject upstream = fake.awaitExchange(FakeOpenAi.CHAT, 0, Duration.ofSeconds(5)).json();
            assertEquals("required", upstream.getString("tool_choice"));
            assertFalse(upstream.getBoolean("parallel_tool_calls"));
            assertEquals("get_weather", upstream.getJsonArray("tools").getJsonObject(0).getJsonObject("function")
                    .getString("name"));
        }
    }

    @Test
    void ollamaClientWithAnOpenAiUpstreamGetsObjectArgumentsAndItsResultReachesTheUpstreamWithTheCallId() {
        try (FakeOpenAi fake = FakeOpenAi.start(MODEL);
             TestSidecar s = TestSidecar.fromModel(dir, "openai:" + MODEL, env(fake))) {
            fake.reply(FakeOpenAi.Reply.tokens().toolCalls(new FakeOpenAi.Call("call_9", "get_weather", ARGS)));
            List<JsonObject> recs = OllamaApiTest.records(s.post("/api/chat", "{\"model\":\"" + MODEL + "\"," + TOOLS
                    + ",\"messages\":[{\"role\":\"user\",\"content\":\"Weather?\"}]}").body());
            JsonObject call = recs.stream().filter(rec -> rec.getJsonObject("message").containsKey("tool_calls"))
                    .findFirst().orElseThrow().getJsonObject("message").getJsonArray("tool_calls").getJsonObject(0);
            assertEquals("Paris, France été", call.getJsonObject("function").getJsonObject("arguments").getString("city"));
            JsonObject last = recs.getLast();
            assertTrue(last.getBoolean("done"));
            assertEquals("stop", last.getString("done_reason"), "Ollama ends a turn with calls as stop");

            fake.reply(FakeOpenAi.Reply.tokens("Sunny."));
            HttpResponse<String> r = s.post("/api/chat", "{\"model\":\"" + MODEL + "\",\"stream\":false," + TOOLS
                    + ",\"messages\":[{\"role\":\"user\",\"content\":\"Weather?\"},"
                    + "{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[" + call + "]},"
                    + "{\"role\":\"tool\",\"tool_name\":\"get_weather\",\"content\":\"21 C\"}]}");
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("Sunny.", TestSidecar.json(r.body()).getJsonObject("message").getString("content"));
            JsonArray sent = fake.exchanges(FakeOpenAi.CHAT).getLast().json().getJsonArray("messages");
            assertEquals("call_9", sent.getJsonObject(1).getJsonArray("tool_calls").getJsonObject(0).getString("id"));
            assertEquals("call_9", sent.getJsonObject(2).getString("tool_call_id"), "the result names its call");
        }
    }

    @Test
    void openAiClientWithAnOllamaUpstreamGetsAMadeIdAndStringArgumentsWhole() {
        try (FakeOllama fake = FakeOllama.start("llama3.2:latest"); TestSidecar s = TestSidecar.ollama(dir, fake)) {
            fake.reply(FakeOllama.Reply.tokens().toolCalls(new FakeOllama.Call("get_weather", ARGS)));
            HttpResponse<String> r = s.post("/v1/chat/completions", "{" + TOOLS
                    + ",\"messages\":[{\"role\":\"user\",\"content\":\"Weather?\"}]}");
            assertEquals(200, r.statusCode(), r.body());
            JsonObject choice = TestSidecar.json(r.body()).getJsonArray("choices").getJsonObject(0);
            assertEquals("tool_calls", choice.getString("finish_reason"));
            assertTrue(choice.getJsonObject("message").isNull("content"));
            JsonObject call = choice.getJsonObject("message").getJsonArray("tool_calls").getJsonObject(0);
            assertTrue(call.getString("id").startsWith("call_"), call.toString());
            assertEquals("Paris, France été", TestSidecar.json(call.getJsonObject("function").getString("arguments"))
                    .getString("city"));

            fake.reply(FakeOllama.Reply.tokens("Sunny."));
            HttpResponse<String> answer = s.post("/v1/chat/completions", "{" + TOOLS
                    + ",\"messages\":[{\"role\":\"user\",\"content\":\"Weather?\"},"
                    + "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[" + call + "]},"
                    + "{\"role\":\"tool\",\"tool_call_id\":\"" + call.getString("id") + "\",\"content\":\"21 C\"}]}");
            assertEquals(200, answer.statusCode(), answer.body());
            JsonArray sent = fake.exchanges("/api/chat").getLast().json().getJsonArray("messages");
            assertEquals("get_weather", sent.getJsonObject(2).getString("tool_name"), "Ollama gets the tool's name");
            assertEquals("Paris, France été", sent.getJsonObject(1).getJsonArray("tool_calls").getJsonObject(0)
                    .getJsonObject("function").getJsonObject("arguments").getString("city"));
        }
    }

    @Test
    void badToolInputIsA400NamingTheField() {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            String user = "{\"role\":\"user\",\"content\":\"hi\"}";
            HttpResponse<String> schema = s.post("/v1/chat/completions", "{\"tools\":[{\"type\":\"function\","
                    + "\"function\":{\"name\":\"f\",\"parameters\":[]}}],\"messages\":[" + user + "]}");
            assertEquals(400, schema.statusCode());
            assertEquals("tools[0].function.parameters", OpenAiApiTest.error(schema).getString("param"));

            HttpResponse<String> unknown = s.post("/v1/chat/completions", "{\"messages\":[" + user
                    + ",{\"role\":\"tool\",\"tool_call_id\":\"call_nope\",\"content\":\"x\"}]}");
            assertEquals(400, unknown.statusCode());
            assertEquals("messages[1].tool_call_id", OpenAiApiTest.error(unknown).getString("param"));
            assertTrue(OpenAiApiTest.error(unknown).getString("message").contains("call_nope"));

            HttpResponse<String> args = s.post("/v1/chat/completions", "{\"messages\":[" + user
                    + ",{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"c\",\"type\":\"function\","
                    + "\"function\":{\"name\":\"f\",\"arguments\":\"{not json\"}}]}]}");
            assertEquals(400, args.statusCode());
            assertEquals("messages[1].tool_calls[0].function.arguments", OpenAiApiTest.error(args).getString("param"));

            HttpResponse<String> choice = s.post("/v1/chat/completions", "{" + TOOLS + ",\"tool_choice\":{\"type\":"
                    + "\"function\",\"function\":{\"name\":\"other\"}},\"messages\":[" + user + "]}");
            assertEquals(400, choice.statusCode());
            assertEquals("tool_choice", OpenAiApiTest.error(choice).getString("param"));

            HttpResponse<String> echo = s.post("/v1/chat/completions", "{" + TOOLS + ",\"messages\":[" + user + "]}");
            assertEquals(400, echo.statusCode(), "tools are refused, never silently dropped, by an engine without them");
            assertTrue(OpenAiApiTest.error(echo).getString("message").contains("cannot call tools"), echo.body());

            HttpResponse<String> ollama = s.post("/api/chat", "{\"tools\":[{\"type\":\"function\",\"function\":"
                    + "{\"name\":\"bad name!\"}}],\"messages\":[" + user + "]}");
            assertEquals(400, ollama.statusCode());
            assertTrue(ollama.body().contains("tools[0].function.name"), ollama.body());
        }
    }
}
