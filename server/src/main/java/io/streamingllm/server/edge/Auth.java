package io.streamingllm.server.edge;

import io.helidon.http.HeaderNames;
import io.helidon.http.Headers;
import io.helidon.http.HttpPrologue;
import io.helidon.http.Method;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * Optional bearer token ({@code STREAMING_LLM_API_TOKEN}): every route but the liveness probe needs
 * {@code Authorization: Bearer <token>}; the WebSocket upgrade may pass it as {@code ?token=} instead, since
 * browsers cannot set headers on a WebSocket. The playground's own files are public too (a browser loads the page
 * before it can ask for the token); everything the page calls is not. Compared in constant time.
 *
 * <p>Immutable; shared by every connection.
 */
public final class Auth implements Filter {
    private final byte[] token;
    private final String livenessPath;
    private final String webSocketPath;
    private final Predicate<String> pageFile;

    /**
     * @param livenessPath  answered without a token (orchestrators probe it without credentials)
     * @param webSocketPath where the token may come as a query parameter
     */
    public Auth(Optional<String> token, String livenessPath, String webSocketPath) {
        this(token, livenessPath, webSocketPath, path -> false);
    }

    /** @param pageFile whether a path is a static file of the playground, served to a GET without a token */
    public Auth(Optional<String> token, String livenessPath, String webSocketPath, Predicate<String> pageFile) {
        this.token = token.map(t -> t.getBytes(StandardCharsets.UTF_8)).orElse(null);
        this.livenessPath = livenessPath;
        this.webSocketPath = webSocketPath;
        this.pageFile = pageFile;
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        String path = req.path().path();
        if (token == null || livenessPath.equals(path) || allows(req.prologue(), req.headers())
                || (req.prologue().method() == Method.GET && pageFile.test(path))) {
            chain.proceed();
            return;
        }
        res.header(HeaderNames.WWW_AUTHENTICATE, "Bearer");
        Errors.send(req, res, new ApiException(401, "unauthorized",
                "missing or wrong bearer token: send Authorization: Bearer <STREAMING_LLM_API_TOKEN>"));
    }

    /** True when the request carries the token (header, or {@code ?token=} on the WebSocket path). */
    public boolean allows(HttpPrologue prologue, Headers headers) {
        if (token == null) {
            return true;
        }
        Optional<String> header = headers.first(HeaderNames.AUTHORIZATION);
        if (header.isPresent()) {
            String h = header.get().trim();
            if (h.regionMatches(true, 0, "Bearer ", 0, 7) && matches(h.substring(7).trim())) {
                return true;
            }
        }
        if (webSocketPath.equals(prologue.uriPath().path())) {
            return prologue.query().first("token").asOptional().map(this::matches).orElse(false);
        }
        return false;
    }

    private boolean matches(String presented) {
        return MessageDigest.isEqual(token, presented.getBytes(StandardCharsets.UTF_8));
    }
}
