package io.streamingllm.server.edge;

import io.helidon.http.HeaderNames;
import io.helidon.http.Headers;
import io.helidon.http.Method;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * CORS from {@code STREAMING_LLM_CORS_ORIGINS} ({@code *}, or a comma-separated list; unset means pages served from
 * {@code localhost}, {@code 127.0.0.1} or {@code [::1]} on any port): adds the allow headers to responses for
 * allowed origins and answers preflight {@code OPTIONS} itself (before auth, since browsers send preflights
 * without credentials). A page served by the sidecar itself (the playground) is always allowed: its origin names
 * the host the request was sent to. A browser request from any other origin may not write (POST, PUT, DELETE,
 * PATCH) nor open the WebSocket: 403. Missing allow headers alone would not do: a browser sends a "simple" POST before it
 * looks at the answer, so the write would already have happened.
 *
 * <p>Immutable; shared by every connection.
 */
public final class Cors implements Filter {
    private static final String ALLOWED_METHODS = "GET, POST, PUT, DELETE, OPTIONS";
    private static final String ALLOWED_HEADERS = "Authorization, Content-Type, Accept, X-Conversation-Id";
    private static final Set<String> LOCAL_HOSTS = Set.of("localhost", "127.0.0.1", "[::1]");
    private static final Set<Method> READS = Set.of(Method.GET, Method.HEAD, Method.OPTIONS);
    private final boolean any;
    private final Set<String> origins;

    /** @param origins the configured origins; empty for the local ones, {@code *} for any */
    public Cors(List<String> origins) {
        this.any = origins.contains("*");
        this.origins = Set.copyOf(origins);
    }

    /**
     * True when a page from {@code origin} may call the sidecar, for a request sent to {@code host} (its Host
     * header, when there is one).
     */
    public boolean allows(String origin, Optional<String> host) {
        if (any || origins.contains(origin) || host.map(h -> sameOrigin(origin, h)).orElse(false)) {
            return true;
        }
        return origins.isEmpty() && isLocal(origin);
    }

    /** The page comes from the sidecar itself: its origin's authority is the Host the request went to. */
    static boolean sameOrigin(String origin, String host) {
        int scheme = origin.indexOf("://");
        return scheme > 0 && origin.substring(scheme + 3).equalsIgnoreCase(host.trim());
    }

    /** An {@code http(s)} origin on the loopback names, any port. */
    static boolean isLocal(String origin) {
        try {
            URI uri = new URI(origin);
            String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
            String host = uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT);
            return (scheme.equals("http") || scheme.equals("https")) && LOCAL_HOSTS.contains(host)
                    && (uri.getPath() == null || uri.getPath().isEmpty()) && uri.getQuery() == null;
        } catch (URISyntaxException e) {
            return false;
        }
    }

    /** What an origin that is not allowed is told. */
    public String refusal(String origin) {
        return "origin " + origin + " is not allowed: set STREAMING_LLM_CORS_ORIGINS (default: pages on localhost "
                + "and 127.0.0.1)";
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        Optional<String> origin = req.headers().first(HeaderNames.ORIGIN);
        if (origin.isEmpty()) {
            chain.proceed();
            return;
        }
        boolean allowed = allows(origin.get(), req.headers().first(HeaderNames.HOST));
        Method method = req.prologue().method();
        boolean preflight = method == Method.OPTIONS && req.headers().contains(HeaderNames.ACCESS_CONTROL_REQUEST_METHOD);
        if (!allowed && (preflight || !READS.contains(method) || isUpgrade(req.headers()))) {
            Errors.send(req, res, new ApiException(403, "cors_origin_not_allowed", refusal(origin.get())));
            return;
        }
        if (preflight) {
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

    /** A WebSocket upgrade declined by the endpoint reaches HTTP routing with its Upgrade header. */
    private static boolean isUpgrade(Headers headers) {
        return headers.first(HeaderNames.UPGRADE).map(u -> u.equalsIgnoreCase("websocket")).orElse(false);
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
