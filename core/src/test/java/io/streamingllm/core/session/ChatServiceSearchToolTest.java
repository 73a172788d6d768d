package io.streamingllm.core.session;

import io.streamingllm.core.agent.AgentStore;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.TokenListener;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.engine.ToolDefinition;
import io.streamingllm.core.engine.ToolOptions;
import io.streamingllm.core.engine.ollama.OllamaEngine;
import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventLog;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.recall.RecallIndex;
import io.streamingllm.core.session.payload.AssistantMessage;
import io.streamingllm.core.session.payload.UserMessage;
import io.streamingllm.core.summary.SummaryStore;
import io.streamingllm.core.testing.FakeOllama;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The built-in conversation_search tool: offered with the client's tools, run by the sidecar when the model calls
 * it, logged like any tool call, never shown to the client; a fake Ollama upstream plays the model over real HTTP.
 */
class ChatServiceSearchToolTest {
    private static final ToolOptions WEATHER = new ToolOptions(List.of(new ToolDefinition("get_weather", "weather",
            Json.createObjectBuilder().add("type", "object").build())), ToolOptions.Choice.AUTO, null, null);

    @TempDir
    Path dir;

    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private ChatService chat(FakeOllama ollama, EventLog[] logOut) {
        SidecarConfig cfg = SidecarConfig.fromEnv(Map.of(SidecarConfig.MODEL, "llama3.2:latest",
                SidecarConfig.OLLAMA_URL, ollama.baseUri().toString(),
                SidecarConfig.DATA_DIR, dir.resolve("data").toString(),
                SidecarConfig.AGENTS_DIR, dir.resolve("agents").toString()));
        EventLog log = new EventLog(cfg.logDir());
        RecallIndex index = new RecallIndex(cfg.indexDir());
        ChatService chat = new ChatService(cfg, new OllamaEngine(cfg.ollamaUrl(), "llama3.2:latest", Duration.ofSeconds(5)),
                new AgentStore(cfg.agentsDir()), log, new SummaryStore(cfg.summaryDir()),
                ChatService.DEFAULT_MAX_RESIDENT, index);
        toClose.add(log);
        toClose.add(index);
        toClose.add(chat);
        logOut[0] = log;
        return chat;
    }

    private static List<String> toolNames(JsonObject request) {
        JsonArray tools = request.getJsonArray("tools");
        return tools == null ? List.of()
                : tools.stream().map(t -> t.asJsonObject().getJsonObject("function").getString("name")).toList();
    }

    private static JsonObject lastMessage(JsonObject request) {
        JsonArray messages = request.getJsonArray("messages");
        return messages.getJsonObject(messages.size() - 1);
    }

    /** Client-side record of what reached it. */
    private static final class Client implements TokenListener {
        final StringBuilder text = new StringBuilder();
        final List<ToolCall> calls = new CopyOnWriteArrayList<>();

        @Override
        public void onToken(String delta) {
            text.append(delta);
        }

        @Override
        public void onToolCall(ToolCall call) {
            calls.add(call);
        }
    }

    @Test
    void theModelSearchesTheConversationAndContinuesWithTheResultTheClientSeesOnlyTheAnswer() {
        try (FakeOllama ollama = FakeOllama.start("llama3.2:latest")) {
            ollama.reply(ex -> {
                JsonObject last = lastMessage(ex.json());
                if ("tool".equals(last.getString("role"))) {
                    return FakeOllama.Reply.tokens("From the log: ", last.getString("content"));
                }
                if (last.getString("content").startsWith("What was my locker code")) {
                    return FakeOllama.Reply.tokens().toolCalls(
                            new FakeOllama.Call(SearchTool.NAME, "{\"query\":\"locker code\"}"));
                }
                return FakeOllama.Reply.tokens("Noted.");
            });
            EventLog[] log = new EventLog[1];
            ChatService chat = chat(ollama, log);
            GenerationOptions tools = GenerationOptions.DEFAULTS.withTools(WEATHER);
            List<ChatMessage> history = new ArrayList<>(List.of(ChatMessage.user("My locker code is 4471.")));
            chat.relay(new RelayRequest(history, "t1", tools), d -> { }).result().join();
            history.add(ChatMessage.assistant("Noted."));
            history.add(ChatMessage.user("What was my locker code?"));

            Client client = new Client();
            TurnResult r = chat.relay(new RelayRequest(history, "t1", tools), client).result().join();

            assertEquals(FinishReason.STOP, r.finishReason());
            assertTrue(r.text().startsWith("From the log: ") && r.text().contains("4471"), r.text());
            assertEquals(r.text(), client.text.toString(), "the client gets the continued answer");
            assertEquals(List.of(), client.calls, "the search call is the sidecar's, not the client's");

            List<FakeOllama.Exchange> chats = ollama.exchanges("/api/chat");
            assertEquals(3, chats.size());
            assertEquals(List.of("get_weather", SearchTool.NAME), toolNames(chats.get(1).json()),
                    "offered next to the client's tools");
            JsonObject result = lastMessage(chats.get(2).json());
            JsonObject found = Json.createReader(new java.io.StringReader(result.getString("content"))).readObject();
            assertEquals("locker code", found.getString("query"));
            assertEquals(1, found.getJsonArray("turns").getJsonObject(0).getInt("turn"));
            assertEquals("My locker code is 4471.", found.getJsonArray("turns").getJsonObject(0).getString("user"));

            // logged like any tool call: the call with its turn's reply, the result with the next turn
            List<Event> events;
            try (Stream<Event> s = log[0].read("t1")) {
                events = s.filter(e -> e.type() != EventType.SUMMARY_REFRESH).toList();
            }
            assertEquals(List.of(EventType.USER_MESSAGE, EventType.ASSISTANT_MESSAGE, EventType.USER_MESSAGE,
                    EventType.ASSISTANT_MESSAGE, EventType.USER_MESSAGE, EventType.ASSISTANT_MESSAGE),
                    events.stream().map(Event::type).toList());
            AssistantMessage called = AssistantMessage.from(events.get(3).payload());
            assertEquals(FinishReason.TOOL_CALLS, called.finishReason());
            assertEquals(SearchTool.NAME, called.toolCalls().getFirst().name());
            UserMessage results = UserMessage.from(events.get(4).payload());
            assertEquals(3, results.turn());
            assertEquals(called.toolCalls().getFirst().id(), results.toolResults().getFirst().toolCallId());
            assertEquals(result.getString("content"), results.toolResults().getFirst().content());
            assertEquals(r.text(), AssistantMessage.from(events.get(5).payload()).content());
        }
    }

    @Test
    void notOfferedWithoutClientToolsAndAModelThatKeepsSearchingIsStoppedAfterThreeRounds() {
        try (FakeOllama ollama = FakeOllama.start("llama3.2:latest")) {
            ollama.reply(ex -> toolNames(ex.json()).contains(SearchTool.NAME)
                    ? FakeOllama.Reply.tokens().toolCalls(new FakeOllama.Call(SearchTool.NAME, "{\"query\":\"x\"}"))
                    : FakeOllama.Reply.tokens("Done."));
            EventLog[] log = new EventLog[1];
            ChatService chat = chat(ollama, log);
            chat.relay(new RelayRequest(List.of(ChatMessage.user("hello")), "t2", GenerationOptions.DEFAULTS), d -> { })
                    .result().join();
            assertEquals(List.of(), toolNames(ollama.exchanges("/api/chat").getFirst().json()));

            Client client = new Client();
            TurnResult r = chat.relay(new RelayRequest(List.of(ChatMessage.user("search forever")), "t2",
                    GenerationOptions.DEFAULTS.withTools(WEATHER)), client).result().join();
            assertEquals("Done.", r.text());
            List<FakeOllama.Exchange> chats = ollama.exchanges("/api/chat");
            assertEquals(1 + SearchTool.MAX_ROUNDS + 1, chats.size(), "three search rounds, then an answer");
            assertEquals(List.of("get_weather"), toolNames(chats.getLast().json()), "withdrawn after three rounds");
            assertTrue(client.calls.isEmpty());
            assertFalse(client.text.isEmpty());
        }
    }

    @Test
    void badArgumentsAnswerTheModelWithAnErrorItCanReadNotAFailedTurn() {
        assertTrue(SearchTool.run(ConversationIndex.NONE, "c", 5, new ToolCall("1", SearchTool.NAME, "not json"))
                .contains("\"error\""));
        assertTrue(SearchTool.run(ConversationIndex.NONE, "c", 5, new ToolCall("1", SearchTool.NAME, "{\"query\":7}"))
                .contains("conversation_search takes"));
        assertEquals("{\"query\":\"x\",\"turns\":[]}",
                SearchTool.run(ConversationIndex.NONE, "c", 5, new ToolCall("1", SearchTool.NAME, "{\"query\":\"x\"}")));
        assertEquals(JsonValue.ValueType.OBJECT, Json.createReader(new java.io.StringReader(SearchTool.run(
                ConversationIndex.NONE, "c", 5, new ToolCall("1", SearchTool.NAME, "[]")))).readValue().getValueType());
    }
}
