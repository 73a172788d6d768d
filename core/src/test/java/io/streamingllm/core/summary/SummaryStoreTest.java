package io.streamingllm.core.summary;

import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.log.Visibility;
import jakarta.json.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SummaryStoreTest {
    @TempDir
    Path dir;

    private static Event event(String id, EventType type, String json) {
        return new Event(id, "c1", type, Instant.parse("2026-01-01T00:00:00Z"), Visibility.USER,
                Json.createReader(new java.io.StringReader(json)).readObject());
    }

    @Test
    void rollingSummaryGroupsByTypeSortedWithEventsInOrder() {
        List<Event> events = List.of(
                event("1", EventType.USER_MESSAGE, "{\"content\":\"  first\\n question  \"}"),
                event("2", EventType.ASSISTANT_MESSAGE, "{\"content\":\"an answer\",\"model\":\"m\"}"),
                event("3", EventType.SUMMARY_REFRESH, "{\"summary_ref\":\"abc\",\"evicted_event_ids\":[\"1\"]}"),
                event("4", EventType.USER_MESSAGE, "{\"content\":\"second\"}"),
                event("5", EventType.ERROR, "{}"));
        Summary s = SummaryStore.rollingSummary("c1", events);
        String expected = """
                # Summary of conversation c1

                ## ASSISTANT_MESSAGE
                - an answer

                ## ERROR
                - (no payload)

                ## SUMMARY_REFRESH
                - evicted_event_ids: ["1"]; summary_ref: abc

                ## USER_MESSAGE
                - first question
                - second
                """;
        assertEquals(expected, s.content());
        assertEquals("c1", s.conversationId());
        assertEquals(SummaryStore.sha256Hex(expected), s.summaryRef());
        assertEquals(s, SummaryStore.rollingSummary("c1", events), "deterministic");
        assertTrue(SummaryStore.rollingSummary("c1", List.of()).content().contains("_No events._"));
    }

    @Test
    void sha256HexIsLowercaseHexOfUtf8() {
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", SummaryStore.sha256Hex(""));
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", SummaryStore.sha256Hex("abc"));
    }

    @Test
    void writeThenReadRoundTripsWithTheHeader() throws IOException {
        SummaryStore store = new SummaryStore(dir.resolve("summaries"));
        String content = "# Summary\n\n- ü and <!-- tricky -->\n";
        Summary written = store.write("c1", content);
        assertEquals(SummaryStore.sha256Hex(content), written.summaryRef());
        String file = Files.readString(dir.resolve("summaries/c1.md"), StandardCharsets.UTF_8);
        assertEquals("<!-- summary_ref:" + written.summaryRef() + " -->\n" + content, file);
        assertEquals(Optional.of(written), store.read("c1"));
        Summary replaced = store.write("c1", "newer");
        assertEquals(Optional.of(replaced), new SummaryStore(dir.resolve("summaries")).read("c1"));
        assertEquals(Optional.empty(), store.read("other"));
        try (Stream<Path> files = Files.list(dir.resolve("summaries"))) {
            assertEquals(List.of("c1.md"), files.map(p -> p.getFileName().toString()).toList(), "no temp files left");
        }
    }

    @Test
    void aTamperedFileIsReportedNotTrusted() throws IOException {
        SummaryStore store = new SummaryStore(dir.resolve("summaries"));
        store.write("c1", "- honest\n");
        Path file = dir.resolve("summaries/c1.md");
        Files.writeString(file, Files.readString(file).replace("honest", "forged"));
        TamperedSummaryException e = assertThrows(TamperedSummaryException.class, () -> store.read("c1"));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        Files.writeString(file, "no header at all\n");
        e = assertThrows(TamperedSummaryException.class, () -> store.read("c1"));
        assertTrue(e.getMessage().contains("c1.md"), e.getMessage());
    }

    @Test
    void archiveMovesWithoutClobbering() throws IOException {
        SummaryStore store = new SummaryStore(dir.resolve("summaries"));
        Path archive = dir.resolve("archive");
        store.write("c1", "one");
        assertTrue(store.archive("c1", archive));
        assertFalse(store.exists("c1"));
        assertFalse(store.archive("c1", archive));
        store.write("c1", "two");
        assertTrue(store.archive("c1", archive));
        try (Stream<Path> files = Files.list(archive)) {
            List<String> contents = files.map(p -> {
                try {
                    return Files.readString(p).substring(Files.readString(p).indexOf('\n') + 1);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).sorted().toList();
            assertEquals(List.of("one", "two"), contents);
        }
    }
}
