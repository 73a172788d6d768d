package io.streamingllm.server.edge;

import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.ServerConnectionException;
import io.helidon.webserver.http.DirectHandlers;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.streamingllm.core.Ids;
import io.streamingllm.core.InvalidIdException;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.log.LogWriteException;
import io.streamingllm.core.session.SessionException;
import io.streamingllm.core.summary.TamperedSummaryException;
import io.streamingllm.server.json.JsonText;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletionException;

/**
 * Every error the server answers is JSON with DESIGN's status, in the shape of the API the request came to
 * ({@link ErrorBodies}): exceptions from handlers, Helidon's own protocol-level refusals (bad request line, payload
 * too large), unknown routes and wrong methods. Never a stack trace.
 */
public final class Errors {
    private static final System.Logger LOG = System.getLogger(Errors.class.getName());

    private Errors() {
    }

    /** The status and body a thrown exception maps to. */
    public static ApiException toApi(Throwable t) {
        if (t instanceof ApiException api) {
            return api;
        }
        if (t instanceof JsonText.BadJson bad) {
            return ApiException.badRequest(bad.getMessage());
        }
        if (t instanceof InvalidIdException bad) {
            return ApiException.badRequest(bad.getMessage());
        }
        if (t instanceof SessionException s) {
            return switch (s.kind()) {
                case BUSY -> new ApiException(409, "conversation_busy", s.getMessage());
                case UNKNOWN_AGENT -> new ApiException(404, "unknown_agent", s.getMessage());
                case AGENT_MISMATCH -> new ApiException(409, "agent_mismatch", s.getMessage());
                case BAD_REQUEST -> ApiException.badRequest(s.getMessage());
                case TOO_LARGE -> new ApiException(413, "message_too_large", s.getMessage());
                case SHUTTING_DOWN -> new ApiException(503, "shutting_down", s.getMessage());
                case LOG_UNAVAILABLE -> new ApiException(503, "log_unavailable", s.getMessage());
            };
        }
        if (t instanceof EngineException e) {
            switch (e.kind()) {
                case BAD_REQUEST -> {
                    return new ApiException(400, "unsupported_request", e.getMessage());
                }
                case CONTEXT_LENGTH -> {
                    return new ApiException(413, "context_length_exceeded", e.getMessage());
                }
                case RATE_LIMITED -> {
                    return new ApiException(429, "rate_limited", e.getMessage(), null, e.retryAfter().orElse(null));
                }
                default -> {
                }
            }
            return e.unavailable()
                    ? new ApiException(503, "engine_unavailable", e.getMessage())
                    : new ApiException(502, "upstream_failed", e.getMessage());
        }
        if (t instanceof LogWriteException e) {
            return new ApiException(503, "log_unavailable", e.getMessage());
        }
        if (t instanceof TamperedSummaryException e) {
            return new ApiException(500, "summary_tampered", e.getMessage());
        }
        if (t instanceof CompletionException && t.getCause() != null) {
            return toApi(t.getCause());
        }
        LOG.log(System.Logger.Level.ERROR, "unexpected error", t);
        return new ApiException(500, "internal_error", "the server failed to handle the request; see its log");
    }

    /**
     * Answers {@code res} with the error for {@code t}, when nothing was sent yet: its status, its
     * {@code Retry-After} when it has one, and the JSON in the shape of the API {@code req} came to.
     */
    public static void send(ServerRequest req, ServerResponse res, Throwable t) {
        ApiException api = toApi(t);
        if (res.isSent()) {
            return;
        }
        res.status(api.status());
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        api.retryAfter().ifPresent(d -> res.header(HeaderNames.RETRY_AFTER, Long.toString(retryAfterSeconds(d))));
        ClientWrites.send(res, ErrorBodies.forPath(req.path().absolute().path(), api).getBytes(StandardCharsets.UTF_8));
    }

    /** Whole seconds, rounded up: a client told 0 would retry at once. */
    private static long retryAfterSeconds(Duration d) {
        return Math.max(1, (d.toMillis() + 999) / 1000);
    }

    /** Registers the exception mapping on a routing. */
    public static void register(HttpRouting.Builder routing) {
        routing.error(Throwable.class, Errors::answerFailure);
    }

    /**
     * The error handler: {@link #send}, except that a connection that broke before the error answer was written
     * ends here, in one log line. Thrown on from an error handler, Helidon would log the stack trace of a failed
     * error handler; here the response counts as sent, so Helidon writes nothing more, and its next read of the
     * dead connection closes it.
     */
    private static void answerFailure(ServerRequest req, ServerResponse res, Throwable t) {
        try {
            send(req, res, t);
        } catch (ClientWrites.ClientDropped logged) {
            // ClientWrites wrote the line
        } catch (ServerConnectionException broken) {
            LOG.log(System.Logger.Level.INFO, "a connection broke before its error answer was written: "
                    + broken.getMessage());
        }
    }

    /** The last route of a routing: anything unmatched is 404 JSON (400 when it smuggles an id). */
    public static void notFound(ServerRequest req, ServerResponse res) {
        String raw = req.path().rawPath();
        String lower = raw.toLowerCase(Locale.ROOT);
        if (lower.contains("%2f") || lower.contains("%5c") || raw.contains("/../") || raw.endsWith("/..")) {
            // an id smuggling a separator or a parent reference never names a resource
            send(req, res, ApiException.badRequest("invalid id in " + raw + ": ids match " + Ids.PATTERN.pattern()));
            return;
        }
        send(req, res, ApiException.notFound("no route for " + req.prologue().method().text() + " " + raw));
    }

    /** Registered after a path's method routes: any other method is 405 JSON with {@code Allow}. */
    public static Handler methodNotAllowed(String... allowed) {
        String allow = String.join(", ", allowed);
        return (req, res) -> {
            res.header(HeaderNames.ALLOW, allow);
            send(req, res, new ApiException(405, "method_not_allowed", req.prologue().method().text() + " is not allowed on "
                    + req.path().absolute().rawPath() + "; allowed: " + allow));
        };
    }

    /** JSON bodies for the refusals Helidon makes before routing (bad request line, payload too large, …). */
    public static DirectHandlers directHandlers() {
        DirectHandlers.Builder b = DirectHandlers.builder();
        for (DirectHandler.EventType type : DirectHandler.EventType.values()) {
            b.addHandler(type, (request, eventType, status, headers, message) -> {
                boolean tooLarge = status.code() == 413 || eventType == DirectHandler.EventType.PAYLOAD_TOO_LARGE;
                String error = tooLarge ? "payload_too_large" : switch (eventType) {
                    case BAD_REQUEST, PAYLOAD_TOO_LARGE -> "bad_request";
                    case FORBIDDEN -> "forbidden";
                    case HTTP_VERSION_NOT_SUPPORTED -> "http_version_not_supported";
                    case INTERNAL_ERROR -> "internal_error";
                    case OTHER -> "error";
                };
                String detail = tooLarge
                        ? RequestBody.TOO_LARGE
                        : (message == null || message.isBlank() ? status.reasonPhrase() : oneLine(message));
                return DirectHandler.TransportResponse.builder()
                        .status(status)
                        .headers(headers)
                        .header(HeaderNames.CONTENT_TYPE, "application/json")
                        .entity(ErrorBodies.forPath(request.path(), new ApiException(status.code(), error, detail)))
                        .keepAlive(eventType.keepAlive())
                        .build();
            });
        }
        return b.build();
    }

    private static String oneLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
