package io.streamingllm.core.log;

import io.streamingllm.core.DirectoryLockException;
import jakarta.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One event log per directory: a second one is refused before it touches the first one's files. */
class EventLogLockTest {
    @TempDir
    Path dir;

    private static Event user(String conv, String content) {
        return Event.create(conv, EventType.USER_MESSAGE, Visibility.USER,
                Json.createObjectBuilder().add("content", content).build());
    }

    /** Every file under {@code root} with its bytes (as a list, for equals). */
    private static Map<String, String> snapshot(Path root) throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                files.put(root.relativize(p).toString(), Arrays.toString(Files.readAllBytes(p)));
            }
        }
        return files;
    }

    @Test
    void aSecondLogOnTheSameDirectoryIsRefusedAndChangesNothing() throws Exception {
        Path logs = dir.resolve("logs");
        try (EventLog first = new EventLog(logs, 16, 1 << 20)) {
            for (int i = 0; i < 10; i++) {
                first.append(user("c" + (i % 3), "acknowledged " + i));
            }
            first.spares().awaitFilled(); // the first log's own refill of its spare files is not the refused log's doing
            Map<String, String> before = snapshot(logs);
            assertTrue(before.keySet().stream().anyMatch(f -> f.startsWith(Journal.DIR + "/")),
                    "the first log's journal segment is there: " + before.keySet());

            DirectoryLockException e = assertThrows(DirectoryLockException.class, () -> new EventLog(logs));
            assertEquals("log directory " + logs + " is already in use by this process (pid "
                    + ProcessHandle.current().pid() + ")", e.getMessage());
            assertEquals(before, snapshot(logs), "the refused log touched nothing: journal, files and lock as they were");

            Event after = first.append(user("c0", "still mine"));
            assertEquals(after, first.tail("c0", 1).get(0));
        }
        try (EventLog reopened = new EventLog(logs)) {
            assertEquals(5, reopened.tail("c0", 100).size(), "every acknowledged event, after a clean close");
        }
    }
}
