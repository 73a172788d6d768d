package io.streamingllm.core.example;

import io.streamingllm.core.agent.AgentStore;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.echo.EchoEngine;
import io.streamingllm.core.log.EventLog;
import io.streamingllm.core.session.ChatService;
import io.streamingllm.core.session.Turn;
import io.streamingllm.core.session.TurnRequest;
import io.streamingllm.core.session.TurnResult;
import io.streamingllm.core.summary.SummaryStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The README's "Embed core as a library" example, kept compiling and passing. */
class EmbeddingExampleTest {
    @TempDir
    Path dir;

    @Test
    void readmeExampleRuns() {
        StringBuilder printed = new StringBuilder();
        // --- README example starts here
        SidecarConfig config = SidecarConfig.fromEnv(Map.of(
                "STREAMING_LLM_MODEL", "echo",
                "STREAMING_LLM_DATA_DIR", dir.resolve("data").toString(),
                "STREAMING_LLM_AGENTS_DIR", dir.resolve("agents").toString()));
        try (EventLog log = new EventLog(config.logDir());
             ChatService chat = new ChatService(config, new EchoEngine(0), new AgentStore(config.agentsDir()),
                     log, new SummaryStore(config.summaryDir()))) {
            Turn turn = chat.startTurn(new TurnRequest("new", "planner", "Plan my week", null),
                    delta -> printed.append(delta));            // tokens as they stream
            TurnResult result = turn.result().join();           // completes once the turn is durable
            // continue the same conversation: chat.startTurn(new TurnRequest(turn.conversationId(), ...), ...)
            // --- README example ends here
            assertEquals("Plan my week", result.text());
            assertEquals("Plan my week", printed.toString());
            assertEquals(1, chat.conversation(turn.conversationId()).orElseThrow().turns());
        }
    }
}
