package io.streamingllm.server.edge;

import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

/**
 * Answers a path that ends in a slash once decoded and normalised ({@code /agents/}, {@code /agents/.},
 * {@code /agents%2F}) as an unknown one. Features are mounted at a prefix ({@code /agents}) and Helidon routes
 * such a path to the prefix's own route; the sidecar's paths never ended in a slash.
 */
public final class NoTrailingSlash implements Filter {
    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        String path = req.path().path();
        if (path.length() > 1 && path.endsWith("/")) {
            Errors.notFound(req, res);
            return;
        }
        chain.proceed();
    }
}
