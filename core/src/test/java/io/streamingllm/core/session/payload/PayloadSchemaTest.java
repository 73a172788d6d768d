package io.streamingllm.core.session.payload;

import io.streamingllm.core.config.SidecarConfig.SummaryMode;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.log.Visibility;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import org.junit.jupiter.api.Test;

import java.io.StringReader;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class PayloadSchemaTest {
    private static final WindowState WINDOW = new WindowState(12, 30, 41, 7);

    private static JsonObject parse(String json) {
        try (var reader = Json.createReader(new StringReader(json))) {
            return reader.readObject();
        }
    }

    @Test
    void userMessageIsWrittenAsLoggedAndReadBack() {
        UserMessage m = new UserMessage("hello there", "planner", 3, 2);
        assertEquals("{\"content\":\"hello there\",\"agent_id\":\"planner\",\"turn\":3,\"tokens\":2}", m.toJson().toString());
        assertEquals(m, UserMessage.from(m.toJson()));
        Event e = m.toEvent("c1");
        assertEquals(EventType.USER_MESSAGE, e.type());
        assertEquals(Visibility.USER, e.visibility());
        assertEquals("c1", e.conversationId());
        assertEquals(m.toJson(), e.payload());
    }

    @Test
    void assistantMessageIsWrittenAsLoggedAndReadBack() {
        AssistantMessage ok = new AssistantMessage("hi!", "planner", "llama3.2:latest", 3, FinishReason.STOP, 2, 40, 3,
                900L, 10L, 200L, 600L, WINDOW, null);
        assertEquals("{\"content\":\"hi!\",\"agent_id\":\"planner\",\"model\":\"llama3.2:latest\",\"turn\":3,"
                + "\"finish_reason\":\"stop\",\"tokens\":2,\"prompt_tokens\":40,\"completion_tokens\":3,"
                + "\"total_duration\":900,\"load_duration\":10,\"prompt_eval_duration\":200,\"eval_duration\":600,"
                + "\"window\":{\"sink_tokens\":12,\"summary_tokens\":30,\"recent_tokens\":41,\"evicted_turns\":7}}",
                ok.toJson().toString());
        assertEquals(ok, AssistantMessage.from(ok.toJson()));

        AssistantMessage failed = new AssistantMessage("part", "planner", "m", 4, FinishReason.ERROR, 1, -1, -1,
                5_000_000_000L, 0, 0, 0, WINDOW, "CUDA out of memory");
        JsonObject json = failed.toJson();
        assertEquals(List.copyOf(json.keySet()).subList(12, 14), List.of("window", "error"), "error comes last");
        assertEquals(failed, AssistantMessage.from(json));
        assertEquals(5_000_000_000L, AssistantMessage.from(json).totalDuration(), "durations are longs");
        assertEquals(EventType.ASSISTANT_MESSAGE, ok.toEvent("c1").type());
        assertEquals(Visibility.USER, ok.toEvent("c1").visibility());
    }

    @Test
    void summaryRefreshIsWrittenAsLoggedAndReadBack() {
        SummaryRefresh r = new SummaryRefresh("ab".repeat(32), List.of("e1", "e2"), 9, 28, SummaryMode.EXTRACTIVE);
        assertEquals("{\"summary_ref\":\"" + "ab".repeat(32) + "\",\"evicted_event_ids\":[\"e1\",\"e2\"],"
                + "\"evicted_turns\":9,\"summary_tokens\":28,\"mode\":\"extractive\"}", r.toJson().toString());
        assertEquals(r, SummaryRefresh.from(r.toJson()));
        SummaryRefresh llm = new SummaryRefresh("cd".repeat(32), List.of(), 9, 20, SummaryMode.LLM);
        assertEquals("llm", llm.toJson().getString("mode"));
        assertEquals(llm, SummaryRefresh.from(llm.toJson()));
        assertEquals(EventType.SUMMARY_REFRESH, r.toEvent("c1").type());
        assertEquals(Visibility.INTERNAL, r.toEvent("c1").visibility());
    }

    @Test
    void turnErrorIsWrittenAsLoggedAndReadBack() {
        TurnError e = new TurnError("Ollama is not reachable", EngineException.Kind.UNREACHABLE, 5);
        assertEquals("{\"message\":\"Ollama is not reachable\",\"kind\":\"unreachable\",\"turn\":5}", e.toJson().toString());
        assertEquals(e, TurnError.from(e.toJson()));
        assertEquals(EventType.ERROR, e.toEvent("c1").type());
        assertEquals(Visibility.INTERNAL, e.toEvent("c1").visibility());
    }

    @Test
    void windowStateIsTheConversationsWindowObject() {
        assertEquals("{\"sink_tokens\":12,\"summary_tokens\":30,\"recent_tokens\":41,\"evicted_turns\":7}",
                WINDOW.toJson().toString());
        assertEquals(WINDOW, WindowState.from(WINDOW.toJson()));
        assertEquals(WindowState.EMPTY, WindowState.from(JsonValue.EMPTY_JSON_OBJECT));
    }

    @Test
    void absentKeysReadAsTheTableSays() {
        JsonObject empty = JsonValue.EMPTY_JSON_OBJECT;
        assertEquals(new UserMessage("", null, 0, 0), UserMessage.from(empty));
        assertEquals(new AssistantMessage("", null, null, 0, null, 0, -1, -1, 0, 0, 0, 0, null, null),
                AssistantMessage.from(empty));
        assertEquals(new SummaryRefresh(null, List.of(), SummaryRefresh.NOT_RECORDED, 0, null), SummaryRefresh.from(empty));
        assertEquals(new TurnError("", null, 0), TurnError.from(empty));
        assertNull(AssistantMessage.from(parse("{\"finish_reason\":\"exploded\"}")).finishReason(), "unknown reads as null");
    }

    @Test
    void readsPayloadsAsEarlierVersionsLoggedThem() {
        // lines as the service wrote them before the schema had a home of its own
        JsonObject assistant = parse("{\"content\":\"a b\",\"agent_id\":\"planner\",\"model\":\"echo\",\"turn\":2,"
                + "\"finish_reason\":\"length\",\"tokens\":2,\"prompt_tokens\":17,\"completion_tokens\":2,"
                + "\"total_duration\":123456,\"load_duration\":0,\"prompt_eval_duration\":0,\"eval_duration\":0,"
                + "\"window\":{\"sink_tokens\":9,\"summary_tokens\":0,\"recent_tokens\":6,\"evicted_turns\":0}}");
        AssistantMessage a = AssistantMessage.from(assistant);
        assertEquals(FinishReason.LENGTH, a.finishReason());
        assertEquals(new WindowState(9, 0, 6, 0), a.window());
        assertEquals(assistant, a.toJson(), "written back byte for byte");
        JsonObject refresh = parse("{\"summary_ref\":\"" + "0f".repeat(32) + "\",\"evicted_event_ids\":[\"x\"],"
                + "\"evicted_turns\":1,\"summary_tokens\":24,\"mode\":\"extractive\"}");
        assertEquals(refresh, SummaryRefresh.from(refresh).toJson());
    }
}
