package io.streamingllm.server.health;

import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerResponse;
import io.streamingllm.core.engine.EngineHealth;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.log.EventLog;
import io.streamingllm.core.log.LogHealth;
import io.streamingllm.server.edge.Errors;
import io.streamingllm.server.http.Responses;
import io.streamingllm.server.json.JsonText;

/**
 * The probes, each mounted at a path of its own: liveness (the process serves), readiness (the engine can work and
 * the event log can write).
 */
public final class HealthRoutes {
    private HealthRoutes() {
    }

    /** {@code GET}: 200 {@code {"status":"ok"}} whenever the process serves. */
    public static HttpService liveness() {
        return rules -> rules.get("/", (req, res) -> Responses.json(res, 200, "{\"status\":\"ok\"}"))
                .any("/", Errors.methodNotAllowed("GET"));
    }

    /**
     * {@code GET}: probes the engine now and asks the log whether it can write; 200 when the engine is reachable
     * and has its model and the log can write, else 503 with the engine's advice and the log's reason.
     */
    public static HttpService readiness(EngineGate gate, ModelEngine engine, EventLog log) {
        return rules -> rules.get("/", (req, res) -> ready(gate.probe(), log.health(), engine, res))
                .any("/", Errors.methodNotAllowed("GET"));
    }

    private static void ready(EngineHealth h, LogHealth log, ModelEngine engine, ServerResponse res) {
        boolean ready = h.ready() && log.writable();
        String body = "{\"status\":" + JsonText.quote(ready ? "ready" : "not_ready")
                + ",\"engine\":" + JsonText.quote(engine.engineName())
                + ",\"model\":" + JsonText.quote(engine.model())
                + ",\"engine_status\":" + JsonText.quote(h.status().wireName())
                + ",\"detail\":" + JsonText.quote(h.message() == null ? "" : h.message())
                + ",\"log\":" + JsonText.quote(log.writable() ? "writable" : "not_writable")
                + ",\"log_detail\":" + JsonText.quote(log.detail()) + "}";
        Responses.json(res, ready ? 200 : 503, body);
    }
}
