package io.streamingllm.server;

import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.testing.FakeOpenAi;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tool calling on the native API (issue 14, point 4): an agent's front matter declares tools, WebSocket and SSE/NDJSON
 * turns stream {@code tool_call} events and end with finish_reason tool_calls, the client continues with
 * {@code tool_results}; a restart between the call and the continuation rebuilds the same next prompt (point 5).
 */
class NativeToolsTest {
    private static final String MODEL = "gpt-4o-mini";
    static final String AGENT = "{\"name\":\"Weather\",\"system_prompt\":\"You answer weather questions.\","
            + "\"tools\":[{\"name\":\"get_weather\",\"description\":\"Weather of a city\",\"parameters\":"
            + "{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}},\"required\":[\"city\"]}}]}";
    private static final String ARGS = "{\"city\":\"Paris\"}";

    @TempDir
    Path dir;

    static Map<String, String> env(FakeOpenAi fake) {
        return Map.of(SidecarConfig.OPENAI_URL, fake.baseUri().toString(), SidecarConfig.OPENAI_API_KEY, "sk-x");
    }

    private static TestSidecar sidecar(Path root, FakeOpenAi fake) {
        return TestSidecar.fromModel(root, "openai:" + MODEL, env(fake));
    }

    @Test
    void agentToolsRoundTripThroughPutGetAndTheFileAndABadSchemaIsA400NamingTheField() throws Exception {
        try (TestSidecar s = TestSidecar.echo(dir)) {
            HttpResponse<String> put = s.put("/agents/weather", AGENT);
            assertEquals(200, put.statusCode(), put.body());
            JsonObject tool = TestSidecar.json(s.get("/agents/weather").body()).getJsonArray("tools").getJsonObject(0);
            assertEquals("get_weather", tool.getString("name"));
            assertEquals("Weather of a city", tool.getString("description"));
            assertEquals("string", tool.getJsonObject("parameters").getJsonObject("properties").getJsonObject("city")
                    .getString("type"));
            String file = Files.readString(s.config.agentsDir().resolve("weather.md"));
            assertTrue(file.contains("tools:") && file.contains("get_weather"), file);

            HttpResponse<String> bad = s.put("/agents/weather", AGENT.replace("\"type\":\"object\"", "\"type\":\"array\""));
            assertEquals(400, bad.statusCode(), bad.body());
            assertTrue(bad.body().contains("tools[0].parameters.type"), bad.body());
            HttpResponse<String> badName = s.put("/agents/weather", AGENT.replace("get_weather", "get weather"));
            assertEquals(400, badName.statusCode(), badName.body());
            assertTrue(badName.body().contains("tools[0].name"), badName.body());
            HttpResponse<String> notList = s.put("/agents/weather", "{\"tools\":{\"name\":\"x\"}}");
            assertEquals(400, notList.statusCode(), notList.body());
            assertTrue(notList.body().contains("tools must be a list"), notList.body());
            // the refused PUTs changed nothing
            assertEquals("get_weather", TestSidecar.json(s.get("/agents/weather").body()).getJsonArray("tools")
                    .getJsonObject(0).getString("name"));
        }
    }

    @Test
    void webSocketTurnStreamsToolCallFramesEndsWithToolCallsAndContinuesWithResults() throws Exception {
        try (FakeOpenAi fake = FakeOpenAi.start(MODEL); TestSidecar s = sidecar(dir, fake)) {
            assertEquals(200, s.put("/agents/weather", AGENT).statusCode());
            fake.reply(FakeOpenAi.Reply.tokens("Let me check.").toolCalls(new FakeOpenAi.Call("call_1", "get_weather", ARGS)));
            try (WsClient ws = WsClient.connect(s.base, "")) {
                ws.send("{\"agent_id\":\"weather\",\"conversation_id\":\"w1\",\"user_message\":\"Weather in Paris?\"}");
                StringBuilder text = new StringBuilder();
                JsonObject call = null;
                JsonObject done;
                while (true) {
                    JsonObject f = ws.next();
                    String type = f.getString("type");
                    if (type.equals("token")) {
                        text.append(f.getString("token"));
                    } else if (type.equals("tool_call")) {
                        call = f;
                    } else {
                        assertEquals("done", type, f.toString());
                        done = f;
                        break;
                    }
                }
                assertEquals("Let me check.", text.toString());
                assertEquals("call_1", call.getString("id"));
                assertEquals("get_weather", call.getString("name"));
                assertEquals("Paris", call.getJsonObject("arguments").getString("city"), "arguments as an object");
                assertEquals("w1", call.getString("conversation_id"));
                assertEquals("tool_calls", done.getString("finish_reason"));
                JsonObject first = fake.exchanges(FakeOpenAi.CHAT).getLast().json();
                assertEquals("get_weather", first.getJsonArray("tools").getJsonObject(0).getJsonObject("function")
                        .getString("name"), "the agent's tools reach the upstream");

                fake.reply(FakeOpenAi.Reply.tokens("Sunny, ", "21 C."));
                ws.send("{\"conversation_id\":\"w1\",\"tool_results\":[{\"id\":\"call_1\",\"content\":{\"temp_c\":21}}]}");
                WsClient.Reply answer = ws.readTurn();
                assertEquals("Sunny, 21 C.", answer.text());
                assertEquals("stop", answer.done().getString("finish_reason"));
                JsonArray sent = fake.exchanges(FakeOpenAi.CHAT).getLast().json().getJsonArray("messages");
                assertEquals(List.of("system", "user", "assistant", "tool"),
                        sent.getValuesAs(JsonObject.class).stream().map(m -> m.getString("role")).toList());
                JsonObject assistant = sent.getJsonObject(2);
                assertEquals("call_1", assistant.getJsonArray("tool_calls").getJsonObject(0).getString("id"));
                assertEquals("call_1", sent.getJsonObject(3).getString("tool_call_id"));
                assertEquals("{\"temp_c\":21}", sent.getJsonObject(3).getString("content"));

                // a result for a call no reply is waiting on: one error frame naming it
                ws.send("{\"conversation_id\":\"w1\",\"tool_results\":[{\"id\":\"call_1\",\"content\":\"again\"}]}");
                JsonObject error = ws.next();
                assertEquals("error", error.getString("type"));
                assertTrue(error.getString("message").contains("no tool call waiting"), error.toString());
            }
            try (WsClient ws = WsClient.connect(s.base, "")) {
                fake.reply(FakeOpenAi.Reply.tokens().toolCalls(new FakeOpenAi.Call("call_2", "get_weather", ARGS)));
                ws.send("{\"agent_id\":\"weather\",\"conversation_id\":\"w1\",\"user_message\":\"And tomorrow?\"}");
                while (!ws.next().getString("type").equals("done")) {
                    // token and tool_call frames
                }
                int before = fake.exchanges(FakeOpenAi.CHAT).size();
                ws.send("{\"conversation_id\":\"w1\",\"tool_results\":[{\"id\":\"call_9\",\"content\":\"x\"}]}");
                JsonObject error = ws.next();
                assertEquals("error", error.getString("type"));
                assertTrue(error.getString("message").contains("tool_results[0].id call_9"), error.toString());
                assertTrue(error.getString("message").contains("call_2"), "names the call that waits: " + error);
                assertEquals(before, fake.exchanges(FakeOpenAi.CHAT).size(), "nothing reached the upstream");
            }
        }
    }

    @Test
    void ndjsonAndSseTurnsStreamToolCallEventsAndAPostWithToolResultsContinues() throws Exception {
        try (FakeOpenAi fake = FakeOpenAi.start(MODEL); TestSidecar s = sidecar(dir, fake)) {
            assertEquals(200, s.put("/agents/weather", AGENT).statusCode());
            fake.reply(FakeOpenAi.Reply.tokens().toolCalls(new FakeOpenAi.Call("call_a", "get_weather", ARGS),
                    new FakeOpenAi.Call("call_b", "get_weather", "{\"city\":\"Lyon\"}")));
            HttpResponse<String> r = s.post("/conversations/h1/messages",
                    "{\"agent_id\":\"weather\",\"user_message\":\"Paris and Lyon?\"}", "Accept", "application/x-ndjson");
            assertEquals(200, r.statusCode(), r.body());
            List<JsonObject> lines = HttpTurnsTest.parseNdjson(r.body());
            List<JsonObject> calls = lines.stream().filter(l -> l.getString("type").equals("tool_call")).toList();
            assertEquals(List.of("call_a", "call_b"), calls.stream().map(c -> c.getString("id")).toList());
            assertEquals("Lyon", calls.get(1).getJsonObject("arguments").getString("city"));
            assertEquals("tool_calls", lines.getLast().getString("finish_reason"));

            // every call needs its result
            HttpResponse<String> partial = s.post("/conversations/h1/messages",
                    "{\"tool_results\":[{\"id\":\"call_a\",\"content\":\"18 C\"}]}");
            assertEquals(400, partial.statusCode(), partial.body());
            assertTrue(partial.body().contains("no result for call call_b"), partial.body());
            HttpResponse<String> unknown = s.post("/conversations/h1/messages",
                    "{\"tool_results\":[{\"id\":\"call_z\",\"content\":\"18 C\"}]}");
            assertEquals(400, unknown.statusCode(), unknown.body());
            assertTrue(unknown.body().contains("tool_results[0].id call_z"), unknown.body());
            HttpResponse<String> both = s.post("/conversations/h1/messages",
                    "{\"user_message\":\"hi\",\"tool_results\":[{\"id\":\"call_a\",\"content\":\"18 C\"}]}");
            assertEquals(400, both.statusCode(), both.body());
            HttpResponse<String> noContent = s.post("/conversations/h1/messages",
                    "{\"tool_results\":[{\"id\":\"call_a\"}]}");
            assertEquals(400, noContent.statusCode(), noContent.body());
            assertTrue(noContent.body().contains("tool_results[0].content"), noContent.body());

            fake.reply(FakeOpenAi.Reply.tokens("Both ", "mild."));
            HttpResponse<String> sse = s.post("/conversations/h1/messages", "{\"tool_results\":["
                    + "{\"id\":\"call_b\",\"content\":\"16 C\"},{\"id\":\"call_a\",\"content\":\"18 C\"}]}");
            assertEquals(200, sse.statusCode(), sse.body());
            List<HttpTurnsTest.SseEvent> events = HttpTurnsTest.parseSse(sse.body());
            assertEquals(List.of("token", "token", "done"), events.stream().map(HttpTurnsTest.SseEvent::event).toList());
            assertEquals("stop", events.getLast().data().getString("finish_reason"));
            JsonArray sent = fake.exchanges(FakeOpenAi.CHAT).getLast().json().getJsonArray("messages");
            assertEquals("call_a", sent.getJsonObject(3).getString("tool_call_id"), "results in the calls' order");
            assertEquals("18 C", sent.getJsonObject(3).getString("content"));
            assertEquals("call_b", sent.getJsonObject(4).getString("tool_call_id"));

            // SSE carries tool_call events too
            fake.reply(FakeOpenAi.Reply.tokens().toolCalls(new FakeOpenAi.Call("call_c", "get_weather", ARGS)));
            List<HttpTurnsTest.SseEvent> called = HttpTurnsTest.parseSse(s.post("/conversations/h1/messages",
                    "{\"agent_id\":\"weather\",\"user_message\":\"Again?\"}").body());
            assertEquals(List.of("tool_call", "done"), called.stream().map(HttpTurnsTest.SseEvent::event).toList());
            assertEquals("call_c", called.getFirst().data().getString("id"));
            assertEquals("tool_calls", called.getLast().data().getString("finish_reason"));

            // the log holds the calls and the results
            JsonArray logged = TestSidecar.json(s.get("/conversations/h1/events?limit=100").body()).getJsonArray("events");
            String all = logged.toString();
            assertTrue(all.contains("\"tool_calls\":[{\"id\":\"call_a\""), all);
            assertTrue(all.contains("\"tool_results\":[{\"tool_call_id\":\"call_a\",\"tool_name\":\"get_weather\""), all);
        }
    }

    @Test
    void aContinuationAfterARestartSendsTheUpstreamTheSamePromptAsWithoutOne() throws Exception {
        Path data = dir.resolve("a");
        try (FakeOpenAi fake = FakeOpenAi.start(MODEL)) {
            // without a restart
            try (TestSidecar s = sidecar(data, fake)) {
                assertEquals(200, s.put("/agents/weather", AGENT).statusCode());
                callThenAnswer(s, fake, "straight", true);
                callThenAnswer(s, fake, "restarted", false);
            }
            String straight = fake.exchanges(FakeOpenAi.CHAT).get(2).json().getJsonArray("messages").toString();
            // the same turns, with the sidecar stopped between the call and its results
            try (TestSidecar s = sidecar(data, fake)) {
                fake.reply(FakeOpenAi.Reply.tokens("It is sunny."));
                HttpResponse<String> r = s.post("/conversations/restarted/messages",
                        "{\"tool_results\":[{\"id\":\"call_1\",\"content\":\"21 C\"}]}", "Accept", "application/x-ndjson");
                assertEquals(200, r.statusCode(), r.body());
                assertEquals("stop", HttpTurnsTest.parseNdjson(r.body()).getLast().getString("finish_reason"));
            }
            String restarted = fake.exchanges(FakeOpenAi.CHAT).getLast().json().getJsonArray("messages").toString();
            assertTrue(straight.contains("\"tool_call_id\":\"call_1\""), straight);
            assertEquals(straight, restarted);
        }
    }

    @Test
    void anUpstreamCallWithBrokenArgumentsEndsTheTurnWithAnErrorEventLogsThePartialAndTheNextTurnWorks() {
        try (FakeOpenAi fake = FakeOpenAi.start(MODEL); TestSidecar s = sidecar(dir, fake)) {
            assertEquals(200, s.put("/agents/weather", AGENT).statusCode());
            fake.reply(FakeOpenAi.Reply.tokens("Checking ", "now.").toolCalls(
                    new FakeOpenAi.Call("call_x", "get_weather", "{\"city\":\"Par")));
            HttpResponse<String> r = s.post("/conversations/b1/messages",
                    "{\"agent_id\":\"weather\",\"user_message\":\"Weather?\"}", "Accept", "application/x-ndjson");
            assertEquals(200, r.statusCode(), r.body());
            List<JsonObject> lines = HttpTurnsTest.parseNdjson(r.body());
            JsonObject error = lines.getLast();
            assertEquals("error", error.getString("type"), r.body());
            assertTrue(error.getString("detail").contains("not a JSON object"), error.toString());
            assertTrue(lines.stream().noneMatch(l -> l.getString("type").equals("tool_call")), "no half call: " + r.body());

            JsonArray events = TestSidecar.json(s.get("/conversations/b1/events?limit=100").body()).getJsonArray("events");
            JsonObject reply = events.getValuesAs(JsonObject.class).stream()
                    .filter(e -> e.getString("type").equals("ASSISTANT_MESSAGE")).findFirst().orElseThrow()
                    .getJsonObject("payload");
            assertEquals("Checking now.", reply.getString("content"), "the partial text is logged");
            assertEquals("error", reply.getString("finish_reason"));
            assertTrue(reply.getString("error").contains("{\"city\":\"Par"), "the broken arguments are in the log: " + reply);

            // the conversation stays usable: a result for the broken call is refused, a new question is answered
            HttpResponse<String> orphan = s.post("/conversations/b1/messages",
                    "{\"tool_results\":[{\"id\":\"call_x\",\"content\":\"21 C\"}]}");
            assertEquals(400, orphan.statusCode(), orphan.body());
            fake.reply(FakeOpenAi.Reply.tokens("Sunny."));
            HttpResponse<String> next = s.post("/conversations/b1/messages",
                    "{\"agent_id\":\"weather\",\"user_message\":\"Weather now?\"}", "Accept", "application/x-ndjson");
            assertEquals(200, next.statusCode(), next.body());
            List<JsonObject> answer = HttpTurnsTest.parseNdjson(next.body());
            assertEquals("Sunny.", answer.getFirst().getString("token"));
            assertEquals("stop", answer.getLast().getString("finish_reason"));
            JsonArray sent = fake.exchanges(FakeOpenAi.CHAT).getLast().json().getJsonArray("messages");
            assertEquals(List.of("system", "user"), sent.getValuesAs(JsonObject.class).stream()
                    .map(m -> m.getString("role")).toList(), "the failed turn stays out of the prompt: " + sent);
        }
    }

    /** Two turns of {@code conversation}: a question whose reply calls get_weather, then (if {@code answer}) its result. */
    private static void callThenAnswer(TestSidecar s, FakeOpenAi fake, String conversation, boolean answer) {
        fake.reply(FakeOpenAi.Reply.tokens("Checking.").toolCalls(new FakeOpenAi.Call("call_0", "get_weather", ARGS)));
        assertEquals(200, s.post("/conversations/" + conversation + "/messages",
                "{\"agent_id\":\"weather\",\"user_message\":\"Weather in Paris?\"}").statusCode());
        fake.reply(FakeOpenAi.Reply.tokens("21 C, ", "clear.").toolCalls(new FakeOpenAi.Call("call_1", "get_weather", ARGS)));
        assertEquals(200, s.post("/conversations/" + conversation + "/messages",
                "{\"tool_results\":[{\"id\":\"call_0\",\"content\":\"21 C\"}]}").statusCode());
        if (answer) {
            fake.reply(FakeOpenAi.Reply.tokens("It is sunny."));
            HttpResponse<String> r = s.post("/conversations/" + conversation + "/messages",
                    "{\"tool_results\":[{\"id\":\"call_1\",\"content\":\"21 C\"}]}");
            assertEquals(200, r.statusCode(), r.body());
            assertFalse(r.body().contains("event: error"), r.body());
        }
    }
}
