package io.streamingllm.core.log;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * SIGKILLs a child JVM that appends in a loop, at random points, and checks what survives. The child's journal
 * segments are small (256 KiB, events up to 12 KiB), so kills also land during segment rollovers and checkpoints.
 */
class EventLogCrashTest {
    private static final int ROUNDS = 20;

    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedAppendSurvivesSigkill() throws Exception {
        Path logs = dir.resolve("logs");
        String conversation = "crash";
        Set<String> acknowledged = new HashSet<>();
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (int round = 0; round < ROUNDS; round++) {
            int killAfter = 1 + random.nextInt(round % 2 == 0 ? 20 : 400);
            Process child = new ProcessBuilder(javaCommand(), "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto",
                    "-cp", System.getProperty("java.class.path"), CrashAppender.class.getName(),
                    logs.toString(), conversation, "3", Integer.toString(256 * 1024))
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            int seen = 0;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    acknowledged.add(line);
                    if (++seen == killAfter) {
                        // SIGKILL; through the handle so the pipe stays open and acks already sent are still read
                        child.toHandle().destroyForcibly();
                    }
                }
            } finally {
                child.destroyForcibly();
                assertTrue(child.waitFor(30, TimeUnit.SECONDS), "child did not die");
            }
            assertTrue(seen >= killAfter, "round " + round + ": child exited after " + seen + " acks (seed " + seed + ")");

            try (EventLog log = new EventLog(logs)) {
                Set<String> present = new HashSet<>();
                try (var events = log.read(conversation)) {
                    events.forEach(e -> present.add(e.id()));
                }
                Set<String> missing = new HashSet<>(acknowledged);
                missing.removeAll(present);
                assertEquals(Set.of(), missing, "round " + round + ": acknowledged events lost (seed " + seed + ")");
                // every line of the live file parses (the read above repaired any torn tail)
                List<String> lines = EventLogTest.rawLines(logs.resolve(conversation + ".jsonl"));
                List<String> bad = new ArrayList<>();
                for (String l : lines) {
                    try {
                        EventLogTest.parseLine(l);
                    } catch (RuntimeException e) {
                        bad.add(l.length() > 80 ? l.substring(0, 80) + "…" : l);
                    }
                }
                assertEquals(List.of(), bad, "round " + round + ": malformed lines in the live log");
                assertEquals(present.size(), lines.size());
                try (var segments = Files.list(logs.resolve(Journal.DIR))) {
                    assertEquals(List.of(), segments.toList(), "round " + round + ": the replayed journal is dropped");
                }
                Event after = log.append(Event.create(conversation, EventType.ERROR, Visibility.INTERNAL, null));
                assertEquals(after, log.tail(conversation, 1).get(0));
                acknowledged.add(after.id());
            }
        }
        assertTrue(Files.size(logs.resolve(conversation + ".jsonl")) > 0);
    }

    private static String javaCommand() {
        return ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }
}
