package io.streamingllm.server.chat;

import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventLog;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.log.Visibility;
import io.streamingllm.server.edge.Errors;
import io.streamingllm.server.http.QueryParams;
import io.streamingllm.server.http.Responses;
import jakarta.json.JsonArrayBuilder;

import java.time.Instant;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

import static io.streamingllm.server.json.JsonText.JSON;

/**
 * The log queried across conversations, mounted at {@code /events}: {@code GET /?since=&type=&visibility=&limit=},
 * events in chronological order. {@code since} reads the log by time, otherwise by type; either way the other
 * filters apply to what it reads.
 *
 * <p>Shared by every connection; keeps no state between requests.
 */
public final class EventRoutes implements HttpService {
    private static final int MAX_EVENTS = 10_000;
    private static final int DEFAULT_EVENTS = 1_000;

    private final EventLog log;

    public EventRoutes(EventLog log) {
        this.log = log;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", this::events)
                .any("/", Errors.methodNotAllowed("GET"));
    }

    /** The {@code limit} of an events query, here and for one conversation's events. */
    static int limit(ServerRequest req) {
        return QueryParams.intInRange(req.query(), "limit", DEFAULT_EVENTS, 1, MAX_EVENTS);
    }

    private void events(ServerRequest req, ServerResponse res) {
        int limit = limit(req);
        Optional<Instant> since = QueryParams.instant(req.query(), "since");
        Set<EventType> types = QueryParams.enumSet(req.query(), "type", EventType.class, "event type");
        Visibility visibility = QueryParams.parsed(req.query(), "visibility", Visibility::fromWire, "user or internal")
                .orElse(null);
        JsonArrayBuilder arr = JSON.createArrayBuilder();
        try (Stream<Event> stream = since.isPresent() ? log.since(since.get()) : log.byType(types, visibility)) {
            stream.filter(e -> types.isEmpty() || types.contains(e.type()))
                    .filter(e -> visibility == null || e.visibility() == visibility)
                    .limit(limit)
                    .forEach(e -> arr.add(e.toJson()));
        }
        Responses.json(res, 200, JSON.createObjectBuilder().add("events", arr).build());
    }
}
