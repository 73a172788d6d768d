package io.streamingllm.server;

import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.testing.FakeOpenAi;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14, point 9: a 500-turn agent loop over the native WebSocket with a tool call in every turn (question, call,
 * result, answer), the sidecar stopped and started again on the same data directory between one call and its result.
 * Every prompt the upstream receives stays inside the window budget and never holds a call without its results or
 * results without their call.
 */
class ToolAgentLoopTest {
    private static final String MODEL = "gpt-4o-mini";
    private static final int TURNS = 500;
    private static final int RESTART_AT = 250;
    private static final int RECENT = 160;
    private static final int SUMMARY = 48;
    private static final String SYSTEM = "You look things up before you answer.";
    private static final String AGENT = "{\"name\":\"Looker\",\"system_prompt\":\"" + SYSTEM + "\",\"tools\":[{\"name\":"
            + "\"lookup\",\"description\":\"Looks a topic up\",\"parameters\":{\"type\":\"object\",\"properties\":"
            + "{\"q\":{\"type\":\"string\"}},\"required\":[\"q\"]}}]}";
    private static final Pattern QUESTION = Pattern.compile("question (\\d+):");
    private static final Pattern RESULT = Pattern.compile("result for (\\d+):");

    @TempDir
    Path dir;

    @Test
    void fiveHundredToolTurnsStayInsideTheBudgetKeepCallsWithResultsAndSurviveARestart() throws Exception {
        try (FakeOpenAi fake = FakeOpenAi.start(MODEL)) {
            fake.reply(ex -> {
                JsonArray messages = ex.json().getJsonArray("messages");
                JsonObject last = messages.getJsonObject(messages.size() - 1);
                if (last.getString("role").equals("tool")) {
                    String n = number(RESULT, last.getString("content"));
                    return FakeOpenAi.Reply.tokens("Answer ", n, " is ", "known.").withoutUsage();
                }
                String n = number(QUESTION, last.getString("content"));
                return FakeOpenAi.Reply.tokens("Looking.").toolCalls(new FakeOpenAi.Call("call_" + n, "lookup",
                        "{\"q\":\"topic " + n + "\"}")).withoutUsage();
            });
            Map<String, String> env = new HashMap<>(NativeToolsTest.env(fake));
            env.put(SidecarConfig.RECENT_SIZE, String.valueOf(RECENT));
            env.put(SidecarConfig.SUMMARY_SIZE, String.valueOf(SUMMARY));
            TestSidecar s = TestSidecar.fromModel(dir, "openai:" + MODEL, env);
            try {
                assertEquals(200, s.put("/agents/looker", AGENT).statusCode());
                WsClient ws = WsClient.connect(s.base, "");
                try {
                    for (int n = 1; n <= TURNS; n++) {
                        ws.send("{\"agent_id\":\"looker\",\"conversation_id\":\"loop\",\"user_message\":\"question " + n
                                + ": what do the notes say about topic " + n + " and how does it relate to the last one?\"}");
                        JsonObject call = null;
                        JsonObject f;
                        while (!(f = ws.next()).getString("type").equals("done")) {
                            if (f.getString("type").equals("tool_call")) {
                                call = f;
                            }
                        }
                        assertEquals("tool_calls", f.getString("finish_reason"), "turn " + n);
                        assertEquals("call_" + n, call.getString("id"));
                        if (n == RESTART_AT) {
                            ws.close();
                            s.close();
                            s = TestSidecar.fromModel(dir, "openai:" + MODEL, env);
                            ws = WsClient.connect(s.base, "");
                        }
                        ws.send("{\"conversation_id\":\"loop\",\"tool_results\":[{\"id\":\"call_" + n + "\",\"content\":"
                                + "\"result for " + n + ": topic " + n + " is covered in chapter " + (n % 17) + ".\"}]}");
                        WsClient.Reply answer = ws.readTurn();
                        assertEquals("Answer " + n + " is known.", answer.text(), "turn " + n);
                        assertEquals("stop", answer.done().getString("finish_reason"));
                    }
                } finally {
                    ws.close();
                }
            } finally {
                s.close();
            }

            List<FakeOpenAi.Exchange> prompts = fake.exchanges(FakeOpenAi.CHAT);
            assertEquals(2 * TURNS, prompts.size());
            int limit = tokens(SYSTEM) + toolTokens(prompts.getFirst().json()) + SUMMARY + RECENT + 12;
            int largest = 0;
            int summarised = 0;
            for (int i = 0; i < prompts.size(); i++) {
                JsonObject request = prompts.get(i).json();
                JsonArray messages = request.getJsonArray("messages");
                String at = "prompt " + i + ": " + messages;
                assertCallsAnswered(messages, at);
                // a turn's results leave the window with the call they answer, not after it (then as notes)
                assertTrue(messages.getJsonObject(1).getString("content").startsWith("question "), at);
                int size = toolTokens(request);
                for (JsonObject m : messages.getValuesAs(JsonObject.class)) {
                    size += tokens(m.isNull("content") ? "" : m.getString("content"));
                    if (m.get("tool_calls") instanceof JsonArray calls) {
                        for (JsonObject c : calls.getValuesAs(JsonObject.class)) {
                            size += tokens(c.getJsonObject("function").getString("name"))
                                    + tokens(c.getJsonObject("function").getString("arguments"));
                        }
                    }
                }
                assertTrue(size <= limit, "over the budget (" + size + " > " + limit + "): " + at);
                largest = Math.max(largest, size);
                int n = i / 2 + 1;
                JsonObject last = messages.getJsonObject(messages.size() - 1);
                if (i % 2 == 0) {
                    assertTrue(last.getString("content").startsWith("question " + n + ":"), at);
                } else {
                    assertEquals("call_" + n, last.getString("tool_call_id"), at);
                }
                if (messages.getJsonObject(0).getString("content").contains("Summary of the earlier conversation")) {
                    summarised++;
                }
            }
            assertTrue(largest > RECENT / 2, "the window was used, not left nearly empty: " + largest);
            assertTrue(summarised > TURNS, "evicted turns were folded into the summary in most prompts: " + summarised);
        }
    }

    /** Every assistant message's calls are answered by the tool messages right after it, and no result stands alone. */
    private static void assertCallsAnswered(JsonArray messages, String at) {
        List<String> waiting = new ArrayList<>();
        for (JsonObject m : messages.getValuesAs(JsonObject.class)) {
            String role = m.getString("role");
            if (role.equals("tool")) {
                assertTrue(waiting.remove(m.getString("tool_call_id")), "a result without its call: " + at);
                continue;
            }
            assertTrue(waiting.isEmpty(), "calls without results " + waiting + ": " + at);
            if (m.get("tool_calls") instanceof JsonArray calls) {
                calls.getValuesAs(JsonObject.class).forEach(c -> waiting.add(c.getString("id")));
            }
        }
        assertTrue(waiting.isEmpty(), "calls without results at the end " + waiting + ": " + at);
    }

    /** The tokens the sidecar's estimate gives a text (4 characters a token; the fake reports no usage to learn from). */
    private static int tokens(String text) {
        return (text.length() + 3) / 4;
    }

    private static int toolTokens(JsonObject request) {
        int n = 0;
        if (request.get("tools") instanceof JsonArray tools) {
            for (JsonValue t : tools) {
                JsonObject fn = t.asJsonObject().getJsonObject("function");
                n += tokens(fn.getString("name")) + tokens(fn.getString("description", ""))
                        + tokens(fn.getJsonObject("parameters").toString());
            }
        }
        return n;
    }

    private static String number(Pattern p, String text) {
        Matcher m = p.matcher(text);
        if (!m.find()) {
            throw new AssertionError("no turn number in " + text);
        }
        return m.group(1);
    }
}
