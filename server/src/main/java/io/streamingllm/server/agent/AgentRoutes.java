package io.streamingllm.server.agent;

import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.streamingllm.core.Ids;
import io.streamingllm.core.agent.Agent;
import io.streamingllm.core.agent.AgentRepository;
import io.streamingllm.core.agent.AgentStore;
import io.streamingllm.core.agent.AgentTools;
import io.streamingllm.core.engine.ToolDefinition;
import io.streamingllm.server.edge.ApiException;
import io.streamingllm.server.edge.Errors;
import io.streamingllm.server.edge.RequestBody;
import io.streamingllm.server.http.JsonFields;
import io.streamingllm.server.http.Responses;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;

import java.util.List;

import static io.streamingllm.server.json.JsonText.JSON;

/**
 * Agents, mounted at {@code /agents}: {@code GET /}, {@code GET/PUT/DELETE /{id}}. An agent's {@code tools} are a
 * list of {@code {name, description, parameters}} ({@link AgentTools}); one that fails its checks is a 400 naming
 * the field.
 *
 * <p>Shared by every connection; keeps no state between requests.
 */
public final class AgentRoutes implements HttpService {
    private final AgentRepository agents;

    public AgentRoutes(AgentRepository agents) {
        this.agents = agents;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", this::list)
                .any("/", Errors.methodNotAllowed("GET"))
                .get("/{id}", this::get)
                .put("/{id}", this::put)
                .delete("/{id}", this::delete)
                .any("/{id}", Errors.methodNotAllowed("GET", "PUT", "DELETE"));
    }

    private void list(ServerRequest req, ServerResponse res) {
        JsonArrayBuilder arr = JSON.createArrayBuilder();
        agents.list().forEach(a -> arr.add(toJson(a)));
        Responses.json(res, 200, JSON.createObjectBuilder().add("agents", arr).build());
    }

    private void get(ServerRequest req, ServerResponse res) {
        String id = id(req);
        Agent agent = agents.get(id).orElseThrow(() -> ApiException.notFound("no agent " + id));
        Responses.json(res, 200, toJson(agent));
    }

    private void put(ServerRequest req, ServerResponse res) {
        String id = id(req);
        JsonObject body = RequestBody.jsonObject(req);
        if (body.containsKey("id") && !(body.get("id") instanceof JsonString s && s.getString().trim().equals(id))) {
            throw ApiException.badRequest("body id does not match the path id " + id);
        }
        JsonFields fields = JsonFields.of(body, "field ");
        List<ToolDefinition> tools;
        try {
            tools = AgentTools.fromJson(body.get("tools"));
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest(e.getMessage());
        }
        Agent saved = agents.upsert(new Agent(id, fields.string("name").orElse(id),
                fields.string("system_prompt").orElse(""), fields.string("markdown_context").orElse(""), tools));
        Responses.json(res, 200, toJson(saved));
    }

    private void delete(ServerRequest req, ServerResponse res) {
        String id = id(req);
        if (!agents.delete(id)) {
            throw ApiException.notFound("no agent " + id);
        }
        res.status(204).send();
    }

    private static String id(ServerRequest req) {
        String raw = req.path().pathParameters().get("id").trim();
        if (raw.isEmpty()) {
            throw ApiException.badRequest("agent id is blank");
        }
        return Ids.require("agent", raw);
    }

    private static JsonObject toJson(Agent a) {
        return JSON.createObjectBuilder()
                .add("id", a.id())
                .add("name", a.name() == null ? "" : a.name())
                .add("system_prompt", a.systemPrompt() == null ? "" : a.systemPrompt())
                .add("markdown_context", a.markdownContext() == null ? "" : a.markdownContext())
                .add("tools", AgentTools.toJson(a.tools()))
                .build();
    }
}
