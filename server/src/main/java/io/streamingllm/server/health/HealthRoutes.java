package io.streamingllm.server.health;

import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.streamingllm.core.engine.EngineHealth;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.server.edge.Errors;
import io.streamingllm.server.http.Responses;
import io.streamingllm.server.json.JsonText;

/** {@code /healthz} (the process serves) and {@code /readyz} (the engine is reachable and has its model). */
public final class HealthRoutes implements HttpService {
    private final EngineGate gate;
    private final ModelEngine engine;

    public HealthRoutes(EngineGate gate, ModelEngine engine) {
        this.gate = gate;
        this.engine = engine;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/healthz", (req, res) -> Responses.json(res, 200, "{\"status\":\"ok\"}"))
                .any("/healthz", Errors.methodNotAllowed("GET"))
                .get("/readyz", this::ready)
                .any("/readyz", Errors.methodNotAllowed("GET"));
    }

    private void ready(ServerRequest req, ServerResponse res) {
        EngineHealth h = gate.probe();
        String body = "{\"status\":" + JsonText.quote(h.ready() ? "ready" : "not_ready")
                + ",\"engine\":" + JsonText.quote(engine.engineName())
                + ",\"model\":" + JsonText.quote(engine.model())
                + ",\"engine_status\":" + JsonText.quote(h.status().wireName())
                + ",\"detail\":" + JsonText.quote(h.message() == null ? "" : h.message()) + "}";
        Responses.json(res, h.ready() ? 200 : 503, body);
    }
}
