package io.streamingllm.server.chat;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.streamingllm.core.Ids;
import io.streamingllm.core.log.EventStore;
import io.streamingllm.core.log.EventQuery;
import io.streamingllm.core.session.ChatService;
import io.streamingllm.core.session.ConversationInfo;
import io.streamingllm.core.session.Turn;
import io.streamingllm.core.summary.Summary;
import io.streamingllm.server.edge.ApiException;
import io.streamingllm.server.edge.Errors;
import io.streamingllm.server.edge.RequestBody;
import io.streamingllm.server.health.EngineGate;
import io.streamingllm.server.http.Responses;
import io.streamingllm.server.metrics.Metrics;
import io.streamingllm.server.metrics.TurnMeter;
import io.streamingllm.server.stream.StreamSettings;
import io.streamingllm.server.stream.TurnStreamer;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonObjectBuilder;

import static io.streamingllm.server.json.JsonText.JSON;

/**
 * Conversations over HTTP, mounted at {@code /conversations}: turns ({@code POST /{id}/messages}, streamed as SSE
 * by default or NDJSON for {@code Accept: application/x-ndjson}), the listing ({@code GET /}), one conversation
 * ({@code GET /{id}}), its events ({@code GET /{id}/events}, paged as {@link EventRoutes} pages) and summary ({@code GET /{id}/summary}), archiving
 * ({@code DELETE /{id}}).
 *
 * <p>Shared by every connection; keeps no state between requests.
 */
public final class ConversationRoutes implements HttpService {
    private final ChatService chat;
    private final EventStore log;
    private final EngineGate gate;
    private final Metrics metrics;
    private final StreamSettings settings;

    public ConversationRoutes(ChatService chat, EventStore log, EngineGate gate, Metrics metrics, StreamSettings settings) {
        this.chat = chat;
        this.log = log;
        this.gate = gate;
        this.metrics = metrics;
        this.settings = settings;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", this::list)
                .any("/", Errors.methodNotAllowed("GET"))
                .get("/{id}", this::get)
                .delete("/{id}", this::archive)
                .any("/{id}", Errors.methodNotAllowed("GET", "DELETE"))
                .post("/{id}/messages", this::post)
                .any("/{id}/messages", Errors.methodNotAllowed("POST"))
                .get("/{id}/events", this::events)
                .any("/{id}/events", Errors.methodNotAllowed("GET"))
                .get("/{id}/summary", this::summary)
                .any("/{id}/summary", Errors.methodNotAllowed("GET"));
    }

    private void post(ServerRequest req, ServerResponse res) {
        String pathId = req.path().pathParameters().get("id");
        if (!TurnInput.NEW.equals(pathId)) {
            Ids.require("conversation", pathId);
        }
        JsonObject body = RequestBody.jsonObject(req);
        TurnInput input = TurnInput.parse(body, pathId);
        gate.requireReady();
        TurnStreamer streamer = new TurnStreamer(settings);
        TurnMeter meter = new TurnMeter(metrics, streamer);
        Turn turn;
        try {
            turn = chat.startTurn(input.toRequest(), meter);
        } catch (RuntimeException e) {
            meter.refused();
            throw e;
        }
        meter.follow(turn.result());
        streamer.stream(turn, res, TurnFormats.forAccept(req.headers().first(HeaderNames.ACCEPT).orElse(null),
                turn.conversationId()));
    }

    private void list(ServerRequest req, ServerResponse res) {
        JsonArrayBuilder arr = JSON.createArrayBuilder();
        chat.conversations().forEach(c -> arr.add(toJson(c)));
        Responses.json(res, 200, JSON.createObjectBuilder().add("conversations", arr).build());
    }

    private void get(ServerRequest req, ServerResponse res) {
        String id = conversationId(req);
        ConversationInfo info = chat.conversation(id).orElseThrow(() -> ApiException.notFound("no conversation " + id));
        Responses.json(res, 200, toJson(info));
    }

    private void archive(ServerRequest req, ServerResponse res) {
        String id = conversationId(req);
        if (!chat.archive(id)) {
            throw ApiException.notFound("no conversation " + id);
        }
        res.status(204).send();
    }

    private void summary(ServerRequest req, ServerResponse res) {
        String id = conversationId(req);
        Summary s = chat.summary(id).orElseThrow(() -> ApiException.notFound(
                "conversation " + id + " has no summary yet (written at its first eviction from the window)"));
        Responses.json(res, 200, JSON.createObjectBuilder()
                .add("conversation_id", s.conversationId())
                .add("summary_ref", s.summaryRef())
                .add("content", s.content())
                .build());
    }

    /** One page of the conversation's events: the parameters of {@link EventRoutes}, the newest by default. */
    private void events(ServerRequest req, ServerResponse res) {
        String id = conversationId(req);
        EventQuery query = EventRoutes.query(req);
        if (!log.exists(id)) {
            throw ApiException.notFound("no conversation " + id);
        }
        EventRoutes.send(res, log.query(id, query));
    }

    private static String conversationId(ServerRequest req) {
        return Ids.require("conversation", req.path().pathParameters().get("id"));
    }

    static JsonObject toJson(ConversationInfo c) {
        JsonObjectBuilder b = JSON.createObjectBuilder()
                .add("conversation_id", c.conversationId())
                .add("agent_id", c.agentId())
                .add("turns", c.turns())
                .add("window", c.window().toJson());
        if (c.summaryRef() == null) {
            b.addNull("summary_ref");
        } else {
            b.add("summary_ref", c.summaryRef());
        }
        return b.build();
    }
}
