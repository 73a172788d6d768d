package io.streamingllm.server.edge;

import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * CORS from {@code STREAMING_LLM_CORS_ORIGINS} ({@code *} or a comma-separated list): adds the allow headers to
 * responses for allowed origins and answers preflight {@code OPTIONS} itself (before auth, since browsers send
 * preflights without credentials).
 *
 * <p>Immutable; shared by every connection.
 */
public final class Cors implements Filter {
    private static final String ALLOWED_METHODS = "GET, POST, PUT, DELETE, OPTIONS";
    private static final String ALLOWED_HEADERS = "Authorization, Content-Type, Accept, X-Conversation-Id";
    private final boolean any;
    private final Set<String> origins;

    public Cors(List<String> origins) {
        this.any = origins.contains("*");
        this.origins = Set.copyOf(origins);
    }

    /** Origins the WebSocket upgrade accepts; empty means any. */
    public Set<String> webSocketOrigins() {
        return any ? Set.of() : origins;
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        Optional<String> origin = req.headers().first(HeaderNames.ORIGIN);
        boolean preflight = req.prologue().method() == Method.OPTIONS && origin.isPresent()
                && req.headers().contains(HeaderNames.ACCESS_CONTROL_REQUEST_METHOD);
        if (origin.isEmpty()) {
            chain.proceed();
            return;
        }
        boolean allowed = any || origins.contains(origin.get());
        if (preflight) {
            if (!allowed) {
                Errors.send(req, res, new ApiException(403, "cors_origin_not_allowed",
                        "origin " + origin.get() + " is not in STREAMING_LLM_CORS_ORIGINS"));
                return;
            }
            allowHeaders(res, origin.get());
            res.header(HeaderNames.ACCESS_CONTROL_ALLOW_METHODS, ALLOWED_METHODS);
            res.header(HeaderNames.ACCESS_CONTROL_ALLOW_HEADERS,
                    req.headers().first(HeaderNames.ACCESS_CONTROL_REQUEST_HEADERS).orElse(ALLOWED_HEADERS));
            res.header(HeaderNames.ACCESS_CONTROL_MAX_AGE, "600");
            res.status(204).send();
            return;
        }
        if (allowed) {
            allowHeaders(res, origin.get());
        }
        chain.proceed();
    }

    private void allowHeaders(RoutingResponse res, String origin) {
        if (any) {
            res.header(HeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, "*");
        } else {
            res.header(HeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            res.header(HeaderNames.VARY, "Origin");
        }
        res.header(HeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS,
                "X-Conversation-Id, X-Context-Tokens, X-Context-Evicted-Turns, Retry-After");
    }
}
