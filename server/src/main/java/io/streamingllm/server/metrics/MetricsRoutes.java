package io.streamingllm.server.metrics;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.streamingllm.core.engine.pool.UpstreamPool;
import io.streamingllm.server.edge.Errors;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The metrics in the Prometheus text format, {@code GET} on the mount ({@code /metrics}).
 *
 * <p>Shared by every connection; keeps no state between requests.
 */
public final class MetricsRoutes implements HttpService {
    private final Metrics metrics;
    private final Optional<UpstreamPool> pool;

    /** {@code pool}: the engine when it is a pool of upstreams, whose per-upstream figures follow the sidecar's. */
    public MetricsRoutes(Metrics metrics, Optional<UpstreamPool> pool) {
        this.metrics = metrics;
        this.pool = pool;
    }

    private String render() {
        String own = metrics.render();
        if (pool.isEmpty()) {
            return own;
        }
        StringBuilder out = new StringBuilder(own);
        UpstreamMetrics.writeTo(out, pool.get().upstreams());
        return out.toString();
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", (req, res) -> res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
                        .send(render().getBytes(StandardCharsets.UTF_8)))
                .any("/", Errors.methodNotAllowed("GET"));
    }
}
