package io.streamingllm.server.chat;

import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.common.uri.UriQuery;
import io.streamingllm.core.log.EventStore;
import io.streamingllm.core.log.EventPage;
import io.streamingllm.core.log.EventQuery;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.log.Visibility;
import io.streamingllm.server.edge.ApiException;
import io.streamingllm.server.edge.Errors;
import io.streamingllm.server.http.QueryParams;
import io.streamingllm.server.http.Responses;
import jakarta.json.JsonArrayBuilder;

import java.time.Instant;
import java.util.Set;

import static io.streamingllm.server.json.JsonText.JSON;

/**
 * The log queried across conversations, mounted at {@code /events}:
 * {@code GET /?since=&after=&before=&type=&visibility=&limit=}, one page of events, oldest first, and whether more
 * match ({@code has_more}). With {@code since} or {@code after} the page is the oldest matching events (page on
 * with {@code after} = its last id); otherwise the newest (page back with {@code before} = its first id). The same
 * parameters page through one conversation ({@link ConversationRoutes}). Filters apply while the files are read
 * ({@link EventQuery}), so a page costs what it holds, not what the logs weigh.
 *
 * <p>Shared by every connection; keeps no state between requests.
 */
public final class EventRoutes implements HttpService {
    private static final int MAX_EVENTS = 10_000;
    private static final int DEFAULT_EVENTS = 1_000;

    private final EventStore log;

    public EventRoutes(EventStore log) {
        this.log = log;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", this::events)
                .any("/", Errors.methodNotAllowed("GET"));
    }

    /** The query of an events request, here and for one conversation's events; 400 for a bad parameter. */
    static EventQuery query(ServerRequest req) {
        UriQuery q = req.query();
        int limit = QueryParams.intInRange(q, "limit", DEFAULT_EVENTS, 1, MAX_EVENTS);
        Instant since = QueryParams.instant(q, "since").orElse(null);
        Set<EventType> types = QueryParams.enumSet(q, "type", EventType.class, "event type");
        Visibility visibility = QueryParams.parsed(q, "visibility", Visibility::fromWire, "user or internal")
                .orElse(null);
        String after = q.first("after").asOptional().orElse(null);
        String before = q.first("before").asOptional().orElse(null);
        try {
            return new EventQuery(since, after, before, types, visibility, limit);
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
    }

    /** {@code {"events":[…],"has_more":…}}. */
    static void send(ServerResponse res, EventPage page) {
        JsonArrayBuilder arr = JSON.createArrayBuilder();
        page.events().forEach(e -> arr.add(e.toJson()));
        Responses.json(res, 200, JSON.createObjectBuilder().add("events", arr).add("has_more", page.hasMore()).build());
    }

    private void events(ServerRequest req, ServerResponse res) {
        send(res, log.query(query(req)));
    }
}
