package io.streamingllm.server;

import io.streamingllm.core.testing.FakeOllama;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The built-in conversation_search tool through the Ollama-compatible API: a logged call with tools gets the
 * model's answer after the sidecar ran the search the model asked for; the client never sees that call.
 */
class SearchToolServedTest {
    private static final String TOOLS = "\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
            + "\"parameters\":{\"type\":\"object\",\"properties\":{\"city\":{\"type\":\"string\"}}}}}]";

    @TempDir
    Path dir;

    private static JsonObject last(JsonObject request) {
        JsonArray messages = request.getJsonArray("messages");
        return messages.getJsonObject(messages.size() - 1);
    }

    @Test
    void theClientGetsTheAnswerTheModelFoundInTheConversationNotTheSearchCall() {
        try (FakeOllama fake = FakeOllama.start("llama3.2:latest");
             TestSidecar s = TestSidecar.ollama(dir, fake)) {
            fake.reply(ex -> {
                JsonObject last = last(ex.json());
                if ("tool".equals(last.getString("role"))) {
                    return FakeOllama.Reply.tokens("From the log: ", last.getString("content"));
                }
                if (last.getString("content").startsWith("What was")) {
                    return FakeOllama.Reply.tokens().toolCalls(
                            new FakeOllama.Call("conversation_search", "{\"query\":\"locker code\"}"));
                }
                return FakeOllama.Reply.tokens("Noted.");
            });
            String plant = "{\"model\":\"llama3.2:latest\",\"stream\":false," + TOOLS + ",\"messages\":["
                    + "{\"role\":\"user\",\"content\":\"My locker code is 4471.\"}]}";
            assertEquals(200, s.post("/api/chat", plant, "X-Conversation-Id", "c1").statusCode());
            String ask = "{\"model\":\"llama3.2:latest\",\"stream\":false," + TOOLS + ",\"messages\":["
                    + "{\"role\":\"user\",\"content\":\"My locker code is 4471.\"},"
                    + "{\"role\":\"assistant\",\"content\":\"Noted.\"},"
                    + "{\"role\":\"user\",\"content\":\"What was my locker code?\"}]}";
            HttpResponse<String> r = s.post("/api/chat", ask, "X-Conversation-Id", "c1");
            assertEquals(200, r.statusCode(), r.body());
            JsonObject body = TestSidecar.json(r.body());
            JsonObject message = body.getJsonObject("message");
            assertTrue(message.getString("content").startsWith("From the log: ")
                    && message.getString("content").contains("4471"), body.toString());
            assertFalse(message.containsKey("tool_calls"), "the search call is the sidecar's: " + body);
            assertEquals("stop", body.getString("done_reason"));

            List<FakeOllama.Exchange> chats = fake.exchanges("/api/chat");
            assertEquals(3, chats.size(), "the plant, the call that searched, the answer");
            JsonArray offered = chats.get(1).json().getJsonArray("tools");
            assertEquals(List.of("get_weather", "conversation_search"), offered.stream()
                    .map(t -> t.asJsonObject().getJsonObject("function").getString("name")).toList());

            // without a conversation nothing is logged, so there is nothing to search: the tool is not offered
            assertEquals(200, s.post("/api/chat", plant).statusCode());
            assertEquals(List.of("get_weather"), fake.exchanges("/api/chat").getLast().json().getJsonArray("tools")
                    .stream().map(t -> t.asJsonObject().getJsonObject("function").getString("name")).toList());
        }
    }
}
