package io.streamingllm.core.session;

import io.streamingllm.core.agent.Agent;
import io.streamingllm.core.agent.AgentStore;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.TokenListener;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.engine.ToolDefinition;
import io.streamingllm.core.engine.ollama.OllamaEngine;
import io.streamingllm.core.log.EventLog;
import io.streamingllm.core.summary.SummaryStore;
import io.streamingllm.core.testing.FakeOllama;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Native tool turns through the service in front of an Ollama upstream: the agent's tools offered, the call's id made
 * (Ollama has none) and answered by a continuation, the result reaching Ollama with its tool's name, and turns that
 * leave the window summarised as short tool notes, never whole payloads.
 */
class ChatServiceNativeToolsTest {
    private static final String BIG = "x".repeat(400);

    @TempDir
    Path dir;

    @Test
    void continuationsAnswerMadeIdsAndEvictedToolTurnsAreSummarisedAsNotes() {
        try (FakeOllama ollama = FakeOllama.start("llama3.2:latest")) {
            SidecarConfig cfg = SidecarConfig.fromEnv(Map.of(SidecarConfig.MODEL, "llama3.2:latest",
                    SidecarConfig.OLLAMA_URL, ollama.baseUri().toString(),
                    SidecarConfig.DATA_DIR, dir.resolve("data").toString(),
                    SidecarConfig.AGENTS_DIR, dir.resolve("agents").toString(),
                    SidecarConfig.RECENT_SIZE, "300", SidecarConfig.SUMMARY_SIZE, "120"));
            AgentStore agents = new AgentStore(cfg.agentsDir());
            agents.upsert(new Agent("w", "W", "You fetch pages.", "", List.of(new ToolDefinition("fetch", "Fetches a page", null))));
            EventLog log = new EventLog(cfg.logDir());
            try (ChatService chat = new ChatService(cfg, new OllamaEngine(cfg.ollamaUrl(), "llama3.2:latest",
                    Duration.ofSeconds(5)), agents, log, new SummaryStore(cfg.summaryDir()))) {
                for (int n = 1; n <= 6; n++) {
                    ollama.reply(FakeOllama.Reply.tokens().toolCalls(new FakeOllama.Call("fetch", "{\"page\":" + n + "}")));
                    List<ToolCall> calls = new ArrayList<>();
                    TurnResult called = chat.startTurn(new TurnRequest("c", "w", "page " + n + " please", null),
                            collect(calls)).result().join();
                    assertEquals(FinishReason.TOOL_CALLS, called.finishReason());
                    ToolCall call = calls.getFirst();
                    assertTrue(call.id().startsWith("call_"), "an id made for Ollama's call: " + call);
                    JsonObject offered = ollama.exchanges("/api/chat").getLast().json();
                    assertEquals("fetch", offered.getJsonArray("tools").getJsonObject(0).getJsonObject("function")
                            .getString("name"));

                    ollama.reply(FakeOllama.Reply.tokens("Page " + n + " read."));
                    TurnResult answered = chat.startTurn(new TurnRequest("c", null, "", null,
                            List.of(ChatMessage.toolResult(call.id(), null, "page " + n + ": " + BIG))), d -> { })
                            .result().join();
                    assertEquals(FinishReason.STOP, answered.finishReason());
                    JsonArray sent = ollama.exchanges("/api/chat").getLast().json().getJsonArray("messages");
                    JsonObject result = sent.getJsonObject(sent.size() - 1);
                    assertEquals("tool", result.getString("role"));
                    assertEquals("fetch", result.getString("tool_name"), "Ollama matches a result by its tool's name");
                    JsonObject caller = sent.getJsonObject(sent.size() - 2);
                    assertEquals("fetch", caller.getJsonArray("tool_calls").getJsonObject(0).getJsonObject("function")
                            .getString("name"));
                    for (JsonValue m : sent) {
                        String content = m.asJsonObject().getString("content", "");
                        assertFalse(m.asJsonObject().getString("role").equals("tool") && content.isEmpty(), sent.toString());
                    }
                }
                String summary = chat.summary("c").orElseThrow().content();
                assertTrue(summary.contains("[called fetch("), summary);
                assertTrue(summary.contains("[fetch -> page 4: xxxx"), summary);
                assertFalse(summary.contains(BIG), "never a whole payload: " + summary);

                SessionException unknown = assertThrows(SessionException.class, () -> chat.startTurn(new TurnRequest("c",
                        null, "", null, List.of(ChatMessage.toolResult("call_nope", null, "x"))), d -> { }));
                assertEquals(SessionException.Kind.BAD_REQUEST, unknown.kind());
                SessionException fresh = assertThrows(SessionException.class, () -> chat.startTurn(new TurnRequest("new",
                        "w", "", null, List.of(ChatMessage.toolResult("call_1", null, "x"))), d -> { }));
                assertTrue(fresh.getMessage().contains("conversation_id is required"), fresh.getMessage());
            } finally {
                log.close();
            }
        }
    }

    private static TokenListener collect(List<ToolCall> calls) {
        return new TokenListener() {
            @Override
            public void onToken(String delta) {
            }

            @Override
            public void onToolCall(ToolCall call) {
                calls.add(call);
            }
        };
    }
}
