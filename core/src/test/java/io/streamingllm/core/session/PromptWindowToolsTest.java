package io.streamingllm.core.session;

import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.TokenCounter;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.core.engine.ToolDefinition;
import io.streamingllm.core.engine.ToolOptions;
import jakarta.json.JsonValue;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.streamingllm.core.engine.ChatMessage.toolCalls;
import static io.streamingllm.core.engine.ChatMessage.toolResult;
import static io.streamingllm.core.engine.ChatMessage.user;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The relayed window with tools: definitions in the sink, a call and its results kept or evicted together. */
class PromptWindowToolsTest {
    private static final TokenCounter WORDS = new TokenCounter() {
        @Override
        public int count(String text) {
            return text.isBlank() ? 0 : text.strip().split("\\s+").length;
        }

        @Override
        public boolean exact() {
            return true;
        }
    };
    private static final ToolCall PARIS = new ToolCall("c1", "get_weather", "{\"city\":\"Paris\"}");
    private static final ToolCall OSLO = new ToolCall("c2", "get_weather", "{\"city\":\"Oslo\"}");
    private static final String LONG_RESULT = "one two three four five six seven";

    private static PromptWindow window() {
        return new PromptWindow(SidecarConfig.fromEnv(Map.of(SidecarConfig.MODEL, "echo",
                SidecarConfig.DATA_DIR, Path.of("unused").toString(), SidecarConfig.RECENT_SIZE, "10",
                SidecarConfig.SUMMARY_SIZE, "60", SidecarConfig.START_SIZE, "4", SidecarConfig.MAX_NEW_TOKENS, "50")),
                new TokenEstimator(WORDS));
    }

    private static List<ChatMessage> calledAndAnswered() {
        return List.of(user("weather in two cities"), toolCalls("", List.of(PARIS, OSLO)),
                toolResult("c1", "get_weather", LONG_RESULT), toolResult("c2", "get_weather", "3 C"));
    }

    @Test
    void resultsWhoseCallLeftTheWindowLeaveWithIt() {
        List<ChatMessage> dialogue = new ArrayList<>(calledAndAnswered());
        dialogue.add(user("and now tell me more please"));
        List<ChatMessage> prompt = window().relayedWindow("", dialogue).prompt();
        List<ChatMessage> kept = prompt.stream().filter(m -> m.role() != ChatMessage.Role.SYSTEM).toList();
        assertEquals(List.of(user("and now tell me more please")), kept, "no result without its call");
        String summary = prompt.getFirst().content();
        assertTrue(summary.contains("[called get_weather({\"city\":\"Paris\"})"), summary);
        assertTrue(summary.contains("[get_weather -> 3 C]"), summary);
    }

    @Test
    void aCallWhoseResultsEndTheDialogueStaysWithThem() {
        List<ChatMessage> prompt = window().relayedWindow("", calledAndAnswered()).prompt();
        List<ChatMessage> kept = prompt.stream().filter(m -> m.role() != ChatMessage.Role.SYSTEM).toList();
        assertEquals(calledAndAnswered().subList(1, 4), kept, "the call is kept with the results that answer it");
    }

    @Test
    void toolDefinitionsCountInTheSink() {
        ToolDefinition weather = new ToolDefinition("get_weather",
                "Current weather of a city, in degrees Celsius, with wind", JsonValue.EMPTY_JSON_OBJECT);
        ToolOptions tools = new ToolOptions(List.of(weather), ToolOptions.Choice.AUTO, null, null);
        PromptWindow w = window();
        int toolTokens = 1 + 10 + 1;
        assertEquals(toolTokens, w.toolTokens(tools));
        assertEquals(2 + toolTokens, w.relayedWindow("be brief", tools, List.of(user("hi"))).window().sinkTokens());
        GenerationOptions o = w.options(GenerationOptions.DEFAULTS.withTools(tools), 2, List.of(user("hi")));
        assertEquals(2 + toolTokens, o.keepTokens(), "the engine must never drop the tool definitions");
        assertEquals(0, w.toolTokens(new ToolOptions(List.of(weather), ToolOptions.Choice.NONE, null, null)),
                "tools the model may not call are not sent");
        assertFalse(w.relayedWindow("be brief", List.of(user("hi"))).window().sinkTokens() > 2);
    }
}
