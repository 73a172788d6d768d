package io.streamingllm.server.health;

import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerResponse;
import io.streamingllm.core.engine.EngineHealth;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.server.edge.Errors;
import io.streamingllm.server.http.Responses;
import io.streamingllm.server.json.JsonText;

/** The probes, each mounted at a path of its own: liveness (the process serves), readiness (the engine can work). */
public final class HealthRoutes {
    private HealthRoutes() {
    }

    /** {@code GET}: 200 {@code {"status":"ok"}} whenever the process serves. */
    public static HttpService liveness() {
        return rules -> rules.get("/", (req, res) -> Responses.json(res, 200, "{\"status\":\"ok\"}"))
                .any("/", Errors.methodNotAllowed("GET"));
    }

    /** {@code GET}: probes the engine now; 200 when it is reachable and has its model, else 503 with its advice. */
    public static HttpService readiness(EngineGate gate, ModelEngine engine) {
        return rules -> rules.get("/", (req, res) -> ready(gate.probe(), engine, res))
                .any("/", Errors.methodNotAllowed("GET"));
    }

    private static void ready(EngineHealth h, ModelEngine engine, ServerResponse res) {
        String body = "{\"status\":" + JsonText.quote(h.ready() ? "ready" : "not_ready")
                + ",\"engine\":" + JsonText.quote(engine.engineName())
                + ",\"model\":" + JsonText.quote(engine.model())
                + ",\"engine_status\":" + JsonText.quote(h.status().wireName())
                + ",\"detail\":" + JsonText.quote(h.message() == null ? "" : h.message()) + "}";
        Responses.json(res, h.ready() ? 200 : 503, body);
    }
}
