package io.streamingllm.server.health;

import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerResponse;
import io.streamingllm.core.engine.EngineHealth;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.pool.UpstreamPool;
import io.streamingllm.core.engine.pool.UpstreamStatus;
import io.streamingllm.core.log.EventStore;
import io.streamingllm.core.log.LogHealth;
import io.streamingllm.server.edge.Errors;
import io.streamingllm.server.http.Responses;
import io.streamingllm.server.json.JsonText;

import java.util.List;
import java.util.Optional;

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
    public static HttpService readiness(EngineGate gate, ModelEngine engine, EventStore log) {
        return readiness(gate, engine, log, Optional.empty());
    }

    /**
     * As {@link #readiness(EngineGate, ModelEngine, EventStore)}; with a pool of upstreams ready while at least one
     * is, and the body lists every upstream ({@code upstreams}: url, state up or down, streams active, failures,
     * time to first token, detail).
     */
    public static HttpService readiness(EngineGate gate, ModelEngine engine, EventStore log, Optional<UpstreamPool> pool) {
        return rules -> rules.get("/", (req, res) -> ready(gate.probe(), log.health(), engine, pool, res))
                .any("/", Errors.methodNotAllowed("GET"));
    }

    private static void ready(EngineHealth h, LogHealth log, ModelEngine engine, Optional<UpstreamPool> pool,
                              ServerResponse res) {
        boolean ready = h.ready() && log.writable();
        String body = "{\"status\":" + JsonText.quote(ready ? "ready" : "not_ready")
                + ",\"engine\":" + JsonText.quote(engine.engineName())
                + ",\"model\":" + JsonText.quote(engine.model())
                + ",\"engine_status\":" + JsonText.quote(h.status().wireName())
                + ",\"detail\":" + JsonText.quote(h.message() == null ? "" : h.message())
                + ",\"log\":" + JsonText.quote(log.writable() ? "writable" : "not_writable")
                + ",\"log_detail\":" + JsonText.quote(log.detail())
                + pool.map(p -> ",\"upstreams\":" + upstreams(p.upstreams())).orElse("") + "}";
        Responses.json(res, ready ? 200 : 503, body);
    }

    private static String upstreams(List<UpstreamStatus> upstreams) {
        StringBuilder out = new StringBuilder("[");
        for (UpstreamStatus u : upstreams) {
            out.append(out.length() > 1 ? "," : "")
                    .append("{\"url\":").append(JsonText.quote(u.name()))
                    .append(",\"state\":").append(u.up() ? "\"up\"" : "\"down\"")
                    .append(",\"streams_active\":").append(u.streamsActive())
                    .append(",\"failures\":").append(u.failures())
                    .append(",\"time_to_first_token_ms_mean\":")
                    .append(u.firstTokens() == 0 ? 0 : u.firstTokenNanos() / u.firstTokens() / 1_000_000)
                    .append(",\"detail\":").append(JsonText.quote(u.detail())).append('}');
        }
        return out.append(']').toString();
    }
}
