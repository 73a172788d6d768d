package io.streamingllm.core.log;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Queries over ~100 MB of logs in a child JVM whose heap is 24 MB: every query answers, with the right events,
 * because no query holds more than a page. (Loading every event before applying {@code limit} ran a server with
 * far more heap out of memory on 828 MB of logs.)
 */
class QueryMemoryTest {
    private static final int CONVERSATIONS = 50;
    private static final int EVENTS = 250_000;
    private static final Instant START = Instant.parse("2025-01-01T00:00:00Z");

    @TempDir
    Path dir;

    /** A version 7 UUID of the given time, as {@link EventIds} makes them (sequence 0, fixed random part). */
    private static String idAt(Instant t, int n) {
        long msb = (t.toEpochMilli() << 16) | 0x7000L | (n & 0xFFF);
        return new UUID(msb, 0x8000000000000000L | n).toString();
    }

    @Test
    void queriesOverLogsFarLargerThanTheHeapAnswerWithBoundedMemory() throws Exception {
        Path logs = Files.createDirectories(dir.resolve("logs"));
        JsonObject payload = Json.createObjectBuilder().add("content", "word ".repeat(60)).build();
        Map<Integer, BufferedWriter> out = new TreeMap<>();
        List<String> ids = new ArrayList<>(EVENTS);
        List<String> errors = new ArrayList<>();
        List<String> inConversation7 = new ArrayList<>();
        Map<Integer, Instant> lastWritten = new TreeMap<>();
        try {
            for (int i = 0; i < EVENTS; i++) {
                int conv = (i * 7919) % CONVERSATIONS;
                Instant t = START.plusSeconds(i);
                EventType type = i % 25_000 == 12_345 ? EventType.ERROR : EventType.USER_MESSAGE;
                String id = idAt(t, i);
                ids.add(id);
                if (type == EventType.ERROR) {
                    errors.add(id);
                }
                if (conv == 7) {
                    inConversation7.add(id);
                }
                lastWritten.put(conv, t);
                BufferedWriter w = out.computeIfAbsent(conv, c -> {
                    try {
                        return Files.newBufferedWriter(logs.resolve("c" + c + ".jsonl"), StandardCharsets.UTF_8);
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                });
                w.write(EventCodec.toLine(new Event(id, "c" + conv, type, t, Visibility.USER, payload)));
                w.write('\n');
            }
        } finally {
            for (BufferedWriter w : out.values()) {
                w.close();
            }
        }
        long bytes = 0;
        for (int c = 0; c < CONVERSATIONS; c++) {
            Path f = logs.resolve("c" + c + ".jsonl");
            bytes += Files.size(f);
            // each file last written when its last event was (what a live log's mtime says)
            Files.setLastModifiedTime(f, FileTime.from(lastWritten.get(c)));
        }
        assertTrue(bytes > 90L << 20, "the logs weigh " + bytes + " bytes");

        Instant late = START.plusSeconds(EVENTS - 10).plusMillis(1);
        String cursor = inConversation7.get(inConversation7.size() / 2);
        String java = ProcessHandle.current().info().command().orElse("java");
        Process child = new ProcessBuilder(java, "-Xmx24m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path"),
                QueryProbe.class.getName(), logs.toString(), late.toString(), "c7", cursor)
                .redirectErrorStream(true).start();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(child.waitFor(5, TimeUnit.MINUTES), "the child finished");
        assertEquals(0, child.exitValue(), "the queries ran out of a 24 MB heap or failed:\n" + output);

        Map<String, List<String>> found = output.lines().filter(l -> !l.isBlank() && Character.isLowerCase(l.charAt(0))
                        && !l.contains(" WARNING") && !l.contains(":"))
                .collect(Collectors.groupingBy(l -> l.split(" ")[0], TreeMap::new,
                        Collectors.mapping(l -> l.substring(l.indexOf(' ') + 1), Collectors.toList())));
        assertEquals(List.of(ids.get(0)), found.get("first"), output);
        assertEquals(List.of(ids.get(EVENTS - 9)), found.get("since-late"), output);
        assertEquals(List.of(String.join(" ", errors)), found.get("errors"), output);
        assertEquals(List.of(String.join(" ", ids.subList(EVENTS - 3, EVENTS))), found.get("newest"), output);
        int at = inConversation7.indexOf(cursor);
        assertEquals(List.of(inConversation7.get(at - 2) + " " + inConversation7.get(at - 1)), found.get("before"));
        assertEquals(List.of(inConversation7.get(at + 1) + " " + inConversation7.get(at + 2)), found.get("after"));
        assertEquals(List.of(ids.get(0) + " " + ids.get(999), ids.get(0) + " " + ids.get(999), ids.get(0) + " " + ids.get(999)),
                found.get("concurrent"));
    }
}
