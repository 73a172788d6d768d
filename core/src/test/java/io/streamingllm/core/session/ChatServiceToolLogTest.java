package io.streamingllm.core.session;

import io.streamingllm.core.agent.AgentStore;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.engine.ollama.OllamaEngine;
import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventLog;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.session.payload.AssistantMessage;
import io.streamingllm.core.session.payload.UserMessage;
import io.streamingllm.core.summary.SummaryStore;
import io.streamingllm.core.testing.FakeOllama;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A logged relayed tool loop: the calls and the results are in the log, and read back the same after a restart. */
class ChatServiceToolLogTest {
    @TempDir
    Path dir;

    private SidecarConfig config(FakeOllama ollama) {
        return SidecarConfig.fromEnv(Map.of(SidecarConfig.MODEL, "llama3.2:latest",
                SidecarConfig.OLLAMA_URL, ollama.baseUri().toString(),
                SidecarConfig.DATA_DIR, dir.resolve("data").toString(),
                SidecarConfig.AGENTS_DIR, dir.resolve("agents").toString()));
    }

    @Test
    void callsAndResultsAreLoggedAndReadBackAfterARestart() {
        try (FakeOllama ollama = FakeOllama.start("llama3.2:latest")) {
            SidecarConfig cfg = config(ollama);
            ToolCall call;
            EventLog log = new EventLog(cfg.logDir());
            ChatService chat = new ChatService(cfg, new OllamaEngine(cfg.ollamaUrl(), "llama3.2:latest", Duration.ofSeconds(5)),
                    new AgentStore(cfg.agentsDir()), log, new SummaryStore(cfg.summaryDir()));
            try {
                ollama.reply(FakeOllama.Reply.tokens().toolCalls(new FakeOllama.Call("get_weather", "{\"city\":\"Paris\"}")));
                List<ChatMessage> ask = List.of(ChatMessage.user("Weather in Paris?"));
                TurnResult first = chat.relay(new RelayRequest(ask, "t1", GenerationOptions.DEFAULTS), d -> { }).result().join();
                assertEquals(FinishReason.TOOL_CALLS, first.finishReason());
                call = AssistantMessage.from(events(log).get(1).payload()).toolCalls().getFirst();
                assertEquals("get_weather", call.name());

                ollama.reply(FakeOllama.Reply.tokens("Sunny."));
                chat.relay(new RelayRequest(List.of(ask.getFirst(), ChatMessage.toolCalls("", List.of(call)),
                        ChatMessage.toolResult(call.id(), "get_weather", "21 C")), "t1", GenerationOptions.DEFAULTS),
                        d -> { }).result().join();
            } finally {
                chat.close();
                log.close();
            }

            EventLog reopened = new EventLog(cfg.logDir());
            try {
                List<Event> events = events(reopened);
                assertEquals(List.of(EventType.USER_MESSAGE, EventType.ASSISTANT_MESSAGE, EventType.USER_MESSAGE,
                        EventType.ASSISTANT_MESSAGE), events.stream().map(Event::type).toList());
                AssistantMessage called = AssistantMessage.from(events.get(1).payload());
                assertEquals(List.of(call), called.toolCalls());
                assertEquals(FinishReason.TOOL_CALLS, called.finishReason());
                UserMessage results = UserMessage.from(events.get(2).payload());
                assertEquals(List.of(ChatMessage.toolResult(call.id(), "get_weather", "21 C")), results.toolResults());
                assertEquals("", results.content(), "a result is not the user's words");
                assertEquals("Sunny.", AssistantMessage.from(events.get(3).payload()).content());
            } finally {
                reopened.close();
            }
        }
    }

    private static List<Event> events(EventLog log) {
        try (Stream<Event> s = log.read("t1")) {
            return s.toList();
        }
    }
}
