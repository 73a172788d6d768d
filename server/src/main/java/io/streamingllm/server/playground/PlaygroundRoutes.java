package io.streamingllm.server.playground;

import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.server.edge.ApiException;
import io.streamingllm.server.edge.Errors;
import io.streamingllm.server.http.Responses;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.streamingllm.server.json.JsonText.JSON;

/**
 * The playground, mounted at {@code /playground}: its files ({@code GET /{file}}, also {@code GET /} of the server
 * for the page itself) and {@code GET /settings}, the window budget its bar is drawn against. The files are
 * public so a browser can load the page before it knows the token; the settings, like every API call the page
 * makes, need the token.
 *
 * <p>Shared by every connection; files are read from the jar once and kept.
 */
public final class PlaygroundRoutes implements HttpService {
    /** Where the page lives on the server. */
    public static final String MOUNT = "/playground";
    private static final String RESOURCES = "playground/";
    private static final String INDEX = "index.html";
    private static final Pattern FILE = Pattern.compile("[a-z0-9-]+\\.(html|css|js|svg)");
    private static final Map<String, String> TYPES = Map.of(
            "html", "text/html; charset=utf-8",
            "css", "text/css; charset=utf-8",
            "js", "text/javascript; charset=utf-8",
            "svg", "image/svg+xml");
    // the page talks only to its own origin and runs only its own files: proof it works offline, and no injection
    private static final String POLICY = "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
            + "style-src 'self'; script-src 'self'; frame-ancestors 'none'";

    private final SidecarConfig config;
    private final Map<String, Optional<byte[]>> files = new ConcurrentHashMap<>();

    public PlaygroundRoutes(SidecarConfig config) {
        this.config = config;
    }

    /** Whether a request path is one of the page's own files, which load without a token. */
    public static boolean isPageFile(String path) {
        if ("/".equals(path)) {
            return true;
        }
        return path.startsWith(MOUNT + "/") && FILE.matcher(path.substring(MOUNT.length() + 1)).matches()
                && PlaygroundRoutes.class.getClassLoader().getResource(RESOURCES + path.substring(MOUNT.length() + 1)) != null;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/settings", this::settings)
                .any("/settings", Errors.methodNotAllowed("GET"))
                .get("/{file}", (req, res) -> file(req.path().pathParameters().get("file"), res))
                .any("/{file}", Errors.methodNotAllowed("GET"));
    }

    /** {@code GET /} of the server: the page. */
    public void index(ServerRequest req, ServerResponse res) {
        file(INDEX, res);
    }

    private void file(String name, ServerResponse res) {
        Matcher m = FILE.matcher(name);
        Optional<byte[]> body = m.matches() ? files.computeIfAbsent(name, PlaygroundRoutes::read) : Optional.empty();
        if (body.isEmpty()) {
            throw ApiException.notFound("no playground file " + name);
        }
        res.header(HeaderNames.CONTENT_TYPE, TYPES.get(m.group(1)));
        res.header(HeaderValues.CACHE_NO_CACHE);
        res.header(HeaderNames.create("Content-Security-Policy"), POLICY);
        res.header(HeaderNames.X_CONTENT_TYPE_OPTIONS, "nosniff");
        res.send(body.get());
    }

    /** The budget of a conversation's prompt: sink, then summary and recent turns up to these sizes. */
    private void settings(ServerRequest req, ServerResponse res) {
        Responses.json(res, 200, JSON.createObjectBuilder()
                .add("model", config.model().name())
                .add("streaming_enabled", config.streamingEnabled())
                .add("recent_size", config.recentSize())
                .add("summary_size", config.summarySize())
                .add("max_new_tokens", config.maxNewTokens())
                .build());
    }

    private static Optional<byte[]> read(String name) {
        try (InputStream in = PlaygroundRoutes.class.getClassLoader().getResourceAsStream(RESOURCES + name)) {
            return in == null ? Optional.empty() : Optional.of(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read playground file " + name + ": " + e.getMessage(), e);
        }
    }
}
