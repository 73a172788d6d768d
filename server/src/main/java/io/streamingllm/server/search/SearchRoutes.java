package io.streamingllm.server.search;

import io.helidon.common.uri.UriQuery;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.streamingllm.core.Ids;
import io.streamingllm.core.log.EventStore;
import io.streamingllm.core.recall.BadQueryException;
import io.streamingllm.core.recall.RecallIndex;
import io.streamingllm.core.recall.SearchHit;
import io.streamingllm.core.recall.SearchResult;
import io.streamingllm.server.edge.ApiException;
import io.streamingllm.server.edge.Errors;
import io.streamingllm.server.http.QueryParams;
import io.streamingllm.server.http.Responses;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObjectBuilder;

import java.util.Optional;

import static io.streamingllm.server.json.JsonText.JSON;

/**
 * Full-text search over the logs, mounted at the root: {@code GET /conversations/{id}/search?q=&limit=} (one
 * conversation; 404 when it has no log) and {@code GET /search?q=&agent_id=&limit=} (every conversation, or one
 * agent's). {@code q} takes Lucene's query syntax (words, "phrases", AND/OR/NOT, +must, -mustNot, prefix*); hits are
 * ranked by BM25: {@code {"hits":[{event_id, conversation_id, agent_id, turn, role, snippet, score}], "indexing"}},
 * {@code indexing} true while the index still catches up with the log (older messages may be missing). A query that
 * is blank or does not parse, or a bad {@code limit}, is a 400 saying why.
 *
 * <p>Shared by every connection; keeps no state between requests.
 */
public final class SearchRoutes implements HttpService {
    private static final int DEFAULT_HITS = 10;
    private static final int MAX_HITS = 100;
    private static final int MAX_QUERY_CHARS = 1_000;

    private final RecallIndex index;
    private final EventStore log;

    public SearchRoutes(RecallIndex index, EventStore log) {
        this.index = index;
        this.log = log;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/search", this::all)
                .any("/search", Errors.methodNotAllowed("GET"))
                .get("/conversations/{id}/search", this::conversation)
                .any("/conversations/{id}/search", Errors.methodNotAllowed("GET"));
    }

    private void conversation(ServerRequest req, ServerResponse res) {
        String id = Ids.require("conversation", req.path().pathParameters().get("id"));
        UriQuery q = req.query();
        String query = query(q);
        int limit = limit(q);
        if (!log.exists(id)) {
            throw ApiException.notFound("no conversation " + id);
        }
        send(res, search(id, null, query, limit));
    }

    private void all(ServerRequest req, ServerResponse res) {
        UriQuery q = req.query();
        String query = query(q);
        int limit = limit(q);
        Optional<String> agent = q.first("agent_id").asOptional().filter(a -> !a.isBlank())
                .map(a -> Ids.require("agent", a.trim()));
        send(res, search(null, agent.orElse(null), query, limit));
    }

    private SearchResult search(String conversationId, String agentId, String query, int limit) {
        try {
            return index.search(conversationId, agentId, query, limit);
        } catch (BadQueryException e) {
            throw ApiException.badParam("q", e.getMessage());
        }
    }

    private static String query(UriQuery q) {
        String query = q.first("q").asOptional().map(String::strip).orElse("");
        if (query.isEmpty()) {
            throw ApiException.badParam("q", "q is required: the words to search for (Lucene query syntax)");
        }
        if (query.length() > MAX_QUERY_CHARS) {
            throw ApiException.badParam("q", "q has " + query.length() + " characters; at most " + MAX_QUERY_CHARS);
        }
        return query;
    }

    private static int limit(UriQuery q) {
        return QueryParams.intInRange(q, "limit", DEFAULT_HITS, 1, MAX_HITS);
    }

    private static void send(ServerResponse res, SearchResult result) {
        JsonArrayBuilder hits = JSON.createArrayBuilder();
        for (SearchHit h : result.hits()) {
            JsonObjectBuilder b = JSON.createObjectBuilder()
                    .add("event_id", h.eventId())
                    .add("conversation_id", h.conversationId());
            if (h.agentId() == null) {
                b.addNull("agent_id");
            } else {
                b.add("agent_id", h.agentId());
            }
            hits.add(b.add("turn", h.turn())
                    .add("role", h.role())
                    .add("snippet", h.snippet())
                    .add("score", h.score()));
        }
        Responses.json(res, 200, JSON.createObjectBuilder().add("hits", hits).add("indexing", result.indexing()).build());
    }
}
