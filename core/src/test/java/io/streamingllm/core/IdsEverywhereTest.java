package io.streamingllm.core;

import io.streamingllm.core.agent.Agent;
import io.streamingllm.core.agent.AgentStore;
import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventLog;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.log.Visibility;
import io.streamingllm.core.summary.SummaryStore;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every place an id enters core refuses bad ids, and nothing is written outside the configured dirs. */
class IdsEverywhereTest {
    @TempDir
    Path root;

    @ParameterizedTest
    @ValueSource(strings = {"../x", "a/b", "", "NUL\0", "..", "/etc/passwd", "300"})
    void badIdsAreRefusedByEveryStore(String raw) throws IOException {
        String id = raw.equals("300") ? "x".repeat(300) : raw;
        Path sandbox = Files.createDirectories(root.resolve("sandbox"));
        Path logs = sandbox.resolve("logs");
        Path summaries = sandbox.resolve("summaries");
        Path agentsDir = sandbox.resolve("agents");
        Path archive = sandbox.resolve("archive");
        Event valid = new Event("e1", "ok", EventType.USER_MESSAGE, Instant.now(), Visibility.USER, null);
        try (EventLog log = new EventLog(logs)) {
            SummaryStore summariesStore = new SummaryStore(summaries);
            AgentStore agents = new AgentStore(agentsDir);
            List<Executable> calls = List.of(
                    () -> log.append(new Event("e", id, EventType.USER_MESSAGE, Instant.now(), Visibility.USER, null)),
                    () -> log.append(Event.create(id, EventType.USER_MESSAGE, Visibility.USER, null)),
                    () -> log.read(id),
                    () -> log.tail(id, 1),
                    () -> log.exists(id),
                    () -> log.archive(id, archive),
                    () -> SummaryStore.rollingSummary(id, List.of(valid)),
                    () -> summariesStore.write(id, "x"),
                    () -> summariesStore.read(id),
                    () -> summariesStore.archive(id, archive),
                    () -> agents.upsert(new Agent(id, "n", "p", "c")),
                    () -> agents.get(id),
                    () -> agents.delete(id));
            for (int i = 0; i < calls.size(); i++) {
                InvalidIdException e = assertThrows(InvalidIdException.class, calls.get(i), "call #" + i);
                assertTrue(e.getMessage().startsWith("invalid "), e.getMessage());
                assertTrue(!e.getMessage().contains("\0") && !e.getMessage().contains("\n"), e.getMessage());
            }
            // legitimate use of every store in the same run
            log.append(valid);
            summariesStore.write("ok", "s");
            log.archive("ok", archive);
            summariesStore.archive("ok", archive);
        }
        try (Stream<Path> all = Files.walk(root)) {
            // the log's empty spare files live in a directory of its own inside LOG_DIR
            Set<Path> dirs = Set.of(root, sandbox, logs, logs.resolve(".spare"), summaries, agentsDir, archive);
            List<Path> outside = all.filter(p -> !dirs.contains(p) && !dirs.contains(p.getParent())).toList();
            assertEquals(List.of(), outside, "files outside the configured directories");
        }
    }
}
