package io.streamingllm.core.log;

import io.streamingllm.core.InvalidIdException;
import jakarta.json.Json;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EventTest {
    private static final JsonObject PAYLOAD = Json.createObjectBuilder().add("content", "hi \"there\"\nbye").build();

    @Test
    void createStampsAFreshIdAndNow() {
        Instant before = Instant.now();
        Event e = Event.create("conv-1", EventType.USER_MESSAGE, Visibility.USER, PAYLOAD);
        assertTrue(!e.timestamp().isBefore(before) && !e.timestamp().isAfter(Instant.now()));
        assertEquals("conv-1", e.conversationId());
        assertEquals(PAYLOAD, e.payload());
    }

    @Test
    void idsAreUniqueAndSortInCreationOrder() {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 20_000; i++) {
            ids.add(Event.create("c", EventType.ERROR, Visibility.INTERNAL, null).id());
        }
        Set<String> unique = new HashSet<>(ids);
        assertEquals(ids.size(), unique.size());
        List<String> sorted = new ArrayList<>(ids);
        sorted.sort(null);
        assertEquals(ids, sorted);
    }

    @Test
    void jsonUsesTheWireNamesAndRoundTrips() {
        Event e = Event.create("conv-1", EventType.ASSISTANT_MESSAGE, Visibility.INTERNAL, PAYLOAD);
        JsonObject json = e.toJson();
        assertEquals(Set.of("id", "conversation_id", "type", "timestamp", "visibility", "payload"), json.keySet());
        assertEquals("conv-1", json.getString("conversation_id"));
        assertEquals("ASSISTANT_MESSAGE", json.getString("type"));
        assertEquals("internal", json.getString("visibility"));
        assertEquals(e.timestamp().toString(), json.getString("timestamp"));
        assertTrue(json.getString("timestamp").endsWith("Z"));
        assertEquals(e, Event.fromJson(json));
    }

    @Test
    void acceptsRfc3339WithOffset() {
        JsonObject json = Json.createObjectBuilder(Event.create("c", EventType.ERROR, Visibility.USER, null).toJson())
                .add("timestamp", "2026-01-02T03:04:05+02:00").build();
        assertEquals(Instant.parse("2026-01-02T01:04:05Z"), Event.fromJson(json).timestamp());
    }

    @Test
    void badInputIsAClearIllegalArgument() {
        JsonObject good = Event.create("c", EventType.ERROR, Visibility.USER, PAYLOAD).toJson();
        assertMessage(Json.createObjectBuilder(good).remove("id").build(), "missing field \"id\"");
        assertMessage(Json.createObjectBuilder(good).add("type", "NOPE").build(), "unknown type \"NOPE\"");
        assertMessage(Json.createObjectBuilder(good).add("type", 3).build(), "\"type\" must be a string");
        assertMessage(Json.createObjectBuilder(good).add("timestamp", "yesterday").build(), "not RFC 3339");
        assertMessage(Json.createObjectBuilder(good).add("visibility", "public").build(), "unknown visibility");
        assertMessage(Json.createObjectBuilder(good).add("payload", "text").build(), "payload must be an object");
        assertThrows(InvalidIdException.class,
                () -> Event.fromJson(Json.createObjectBuilder(good).add("conversation_id", "../x").build()));
        assertThrows(IllegalArgumentException.class, () -> Event.fromJson(null));
    }

    @Test
    void createValidatesTheConversationId() {
        for (String bad : new String[]{"../x", "a/b", "", "x".repeat(300), "a\0b"}) {
            assertThrows(InvalidIdException.class, () -> Event.create(bad, EventType.ERROR, Visibility.USER, null));
        }
    }

    private static void assertMessage(JsonObject json, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Event.fromJson(json));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }
}
