package io.streamingllm.server.metrics;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.streamingllm.server.edge.Errors;

import java.nio.charset.StandardCharsets;

/**
 * The metrics in the Prometheus text format, {@code GET} on the mount ({@code /metrics}).
 *
 * <p>Shared by every connection; keeps no state between requests.
 */
public final class MetricsRoutes implements HttpService {
    private final Metrics metrics;

    public MetricsRoutes(Metrics metrics) {
        this.metrics = metrics;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", (req, res) -> res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")
                        .send(metrics.render().getBytes(StandardCharsets.UTF_8)))
                .any("/", Errors.methodNotAllowed("GET"));
    }
}
