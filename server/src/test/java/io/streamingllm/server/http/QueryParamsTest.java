package io.streamingllm.server.http;

import io.helidon.common.uri.UriQuery;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.log.Visibility;
import io.streamingllm.server.edge.ApiException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.time.Instant;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class QueryParamsTest {
    private static UriQuery query(String raw) {
        return UriQuery.create(raw);
    }

    private static void refused(String message, Executable read) {
        ApiException e = assertThrows(ApiException.class, read);
        assertEquals(400, e.status());
        assertEquals(message, e.detail());
    }

    @Test
    void integersInARange() {
        assertEquals(1000, QueryParams.intInRange(query(""), "limit", 1000, 1, 10_000));
        assertEquals(5, QueryParams.intInRange(query("limit=5"), "limit", 1000, 1, 10_000));
        assertEquals(5, QueryParams.intInRange(query("limit=%205%20"), "limit", 1000, 1, 10_000));
        assertEquals(2, QueryParams.intInRange(query("limit=2&limit=3"), "limit", 1000, 1, 10_000), "the first counts");
        assertEquals(10_000, QueryParams.intInRange(query("limit=10000"), "limit", 1000, 1, 10_000));
        refused("limit must be an integer from 1 to 10000, got 0", () -> QueryParams.intInRange(query("limit=0"), "limit", 1000, 1, 10_000));
        refused("limit must be an integer from 1 to 10000, got 10001", () -> QueryParams.intInRange(query("limit=10001"), "limit", 1000, 1, 10_000));
        refused("limit must be an integer from 1 to 10000, got many", () -> QueryParams.intInRange(query("limit=many"), "limit", 1000, 1, 10_000));
        refused("limit must be an integer from 1 to 10000, got ", () -> QueryParams.intInRange(query("limit="), "limit", 1000, 1, 10_000));
    }

    @Test
    void rfc3339Instants() {
        assertEquals(Optional.empty(), QueryParams.instant(query(""), "since"));
        assertEquals(Optional.of(Instant.parse("2025-01-31T12:00:00Z")),
                QueryParams.instant(query("since=2025-01-31T12:00:00Z"), "since"));
        assertEquals(Optional.of(Instant.parse("2025-01-31T10:00:00Z")),
                QueryParams.instant(query("since=2025-01-31T12:00:00%2B02:00"), "since"));
        refused("since must be an RFC 3339 timestamp such as 2025-01-31T12:00:00Z, got yesterday",
                () -> QueryParams.instant(query("since=yesterday"), "since"));
        refused("since must be an RFC 3339 timestamp such as 2025-01-31T12:00:00Z, got 2025-01-31T12:00:00",
                () -> QueryParams.instant(query("since=2025-01-31T12:00:00"), "since"));
    }

    @Test
    void oneParsedValue() {
        assertEquals(Optional.empty(), QueryParams.parsed(query(""), "visibility", Visibility::fromWire, "user or internal"));
        assertEquals(Optional.of(Visibility.INTERNAL),
                QueryParams.parsed(query("visibility=Internal"), "visibility", Visibility::fromWire, "user or internal"));
        refused("visibility must be user or internal, got everyone",
                () -> QueryParams.parsed(query("visibility=everyone"), "visibility", Visibility::fromWire, "user or internal"));
        refused("visibility must be user or internal, got ",
                () -> QueryParams.parsed(query("visibility="), "visibility", Visibility::fromWire, "user or internal"));
    }

    @Test
    void enumSetsFromRepeatedAndCommaSeparatedValues() {
        assertEquals(Set.of(), QueryParams.enumSet(query(""), "type", EventType.class, "event type"));
        assertEquals(Set.of(), QueryParams.enumSet(query("type=,%20,"), "type", EventType.class, "event type"));
        assertEquals(EnumSet.of(EventType.USER_MESSAGE, EventType.SUMMARY_REFRESH, EventType.ERROR),
                QueryParams.enumSet(query("type=user_message,%20SUMMARY_refresh&type=error"), "type", EventType.class,
                        "event type"));
        refused("unknown event type nope; known: " + Arrays.toString(EventType.values()),
                () -> QueryParams.enumSet(query("type=user_message,nope"), "type", EventType.class, "event type"));
    }
}
