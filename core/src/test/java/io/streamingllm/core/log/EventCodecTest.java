package io.streamingllm.core.log;

import jakarta.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** One event, one line: what the writer puts in a log and every reader takes out of it. */
class EventCodecTest {
    @TempDir
    Path dir;

    private static final Event EVENT = new Event("0190a1b2-0000-7000-8000-000000000001", "conv-1",
            EventType.ASSISTANT_MESSAGE, Instant.parse("2026-01-02T03:04:05.123456Z"), Visibility.INTERNAL,
            Json.createObjectBuilder().add("content", "ü \"quoted\"\nnext line").add("tokens", 3).build());

    @Test
    void aLineIsTheCompactObjectOnOneLine() {
        String line = EventCodec.toLine(EVENT);
        assertEquals("{\"id\":\"0190a1b2-0000-7000-8000-000000000001\",\"conversation_id\":\"conv-1\","
                + "\"type\":\"ASSISTANT_MESSAGE\",\"timestamp\":\"2026-01-02T03:04:05.123456Z\",\"visibility\":\"internal\","
                + "\"payload\":{\"content\":\"ü \\\"quoted\\\"\\nnext line\",\"tokens\":3}}", line);
        assertFalse(line.contains("\n"), "a newline inside a value is escaped: one event, one line");
        assertEquals(EVENT.toJson().toString(), line);
    }

    @Test
    void aLineReadsBackAsTheSameEvent() {
        assertEquals(EVENT, EventCodec.fromLine(EventCodec.toLine(EVENT).getBytes(StandardCharsets.UTF_8)));
        assertEquals(EVENT, Event.fromJson(EventCodec.toJson(EVENT)));
    }

    @Test
    void whatIsNotAnEventLineIsAnIllegalArgument() {
        for (String bad : new String[]{"not json", "[1,2]", "{\"id\":", "{}", "", "{\"id\":\0\0\0garbage"}) {
            byte[] line = bad.getBytes(StandardCharsets.UTF_8);
            assertThrows(IllegalArgumentException.class, () -> EventCodec.fromLine(line), bad);
            assertNull(EventCodec.fromLineOrSkip(line, dir.resolve("x.jsonl")), bad);
        }
        byte[] wrongType = EventCodec.toLine(EVENT).replace("ASSISTANT_MESSAGE", "NOPE").getBytes(StandardCharsets.UTF_8);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EventCodec.fromLine(wrongType));
        assertTrue(e.getMessage().contains("unknown type \"NOPE\""), e.getMessage());
    }

    @Test
    void readersSkippingALineStillGetTheGoodOnes() {
        byte[] good = EventCodec.toLine(EVENT).getBytes(StandardCharsets.UTF_8);
        assertEquals(EVENT, EventCodec.fromLineOrSkip(good, dir.resolve("x.jsonl")));
    }
}
