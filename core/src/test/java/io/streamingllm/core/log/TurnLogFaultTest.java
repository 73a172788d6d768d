package io.streamingllm.core.log;

import io.streamingllm.core.agent.AgentStore;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.echo.EchoEngine;
import io.streamingllm.core.session.ChatService;
import io.streamingllm.core.session.SessionException;
import io.streamingllm.core.session.Turn;
import io.streamingllm.core.session.TurnRequest;
import io.streamingllm.core.summary.SummaryStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a client is told about a turn is what the log holds after a restart, when the journal fails mid-turn. */
class TurnLogFaultTest {
    @TempDir
    Path dir;

    private SidecarConfig config() {
        return SidecarConfig.fromEnv(Map.of(
                SidecarConfig.MODEL, "echo",
                SidecarConfig.DATA_DIR, dir.resolve("data").toString(),
                SidecarConfig.AGENTS_DIR, dir.resolve("agents").toString()));
    }

    @Test
    void aTurnWhoseReplyCannotBeLoggedFailsAndTheLogShowsNoReplyAfterARestart() throws Exception {
        SidecarConfig config = config();
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        String conversation;
        try (EventLog log = new EventLog(config.logDir(), 16, 1 << 20, Duration.ofMillis(300), faults.files());
             ChatService chat = new ChatService(config, new EchoEngine(20), new AgentStore(config.agentsDir()), log,
                     new SummaryStore(config.summaryDir()))) {
            CountDownLatch userMessageDurable = new CountDownLatch(1);
            log.onFsync(nanos -> userMessageDurable.countDown()); // the first commit is the user message's
            Turn turn = chat.startTurn(new TurnRequest("new", "planner",
                    "one two three four five six seven eight nine ten eleven twelve", null), delta -> { });
            conversation = turn.conversationId();
            Path file = config.logDir().resolve(conversation + ".jsonl");
            assertTrue(userMessageDurable.await(20, TimeUnit.SECONDS), "the user message was not logged");
            assertFalse(turn.result().isDone(), "the reply is still streaming");
            faults.failRecords.set(true); // the disk fails while the reply streams

            CompletionException told = assertThrows(CompletionException.class, () -> turn.result().join());
            assertTrue(told.getCause().getMessage().contains("Input/output error"), told.getCause().toString());
            assertEquals(1, Files.readAllLines(file).size(), "the reply's lines were taken back from the file");
        }
        try (EventLog restarted = new EventLog(config.logDir())) {
            List<EventType> types = restarted.tail(conversation, 10).stream().map(Event::type).toList();
            assertEquals(List.of(EventType.USER_MESSAGE), types,
                    "after a restart the log holds no reply for the turn the client was told failed");
        }
    }

    @Test
    void turnsAreRefusedUpFrontWhileTheLogCannotWrite() throws IOException {
        SidecarConfig config = config();
        FaultyChannel.Faults faults = new FaultyChannel.Faults();
        try (EventLog log = new EventLog(config.logDir(), 16, 1 << 20, Duration.ofMillis(100), faults.files());
             ChatService chat = new ChatService(config, new EchoEngine(0), new AgentStore(config.agentsDir()), log,
                     new SummaryStore(config.summaryDir()))) {
            faults.failCreate.set(true); // no space for a journal segment
            Turn failed = chat.startTurn(new TurnRequest("new", "planner", "hello", null), delta -> { });
            assertThrows(CompletionException.class, () -> failed.result().join());
            SessionException refused = assertThrows(SessionException.class,
                    () -> chat.startTurn(new TurnRequest("new", "planner", "hello again", null), delta -> { }));
            assertEquals(SessionException.Kind.LOG_UNAVAILABLE, refused.kind());
            assertTrue(refused.getMessage().contains("No space left on device"), refused.getMessage());
            assertFalse(log.health().writable());

            faults.failCreate.set(false);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!log.health().writable()) {
                assertTrue(System.nanoTime() < deadline, "the log did not recover");
                Thread.onSpinWait();
            }
            Turn later = chat.startTurn(new TurnRequest("new", "planner", "works again", null), delta -> { });
            assertEquals("works again", later.result().join().text());
        }
    }
}
