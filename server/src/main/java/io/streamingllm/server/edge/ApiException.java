package io.streamingllm.server.edge;

import java.time.Duration;
import java.util.Optional;

/**
 * A request the server refuses, with the HTTP status and the error it answers with: {@code error} is the
 * machine-readable code, {@code detail} the sentence for people; {@link ErrorBodies} writes them in the shape of
 * the API the request came to.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String error;
    private final String param;
    private final Duration retryAfter;

    public ApiException(int status, String error, String detail) {
        this(status, error, detail, null, null);
    }

    /**
     * @param param      the request field at fault (OpenAI's {@code param}), null when none is
     * @param retryAfter when the client may try again ({@code Retry-After}), null when not said
     */
    public ApiException(int status, String error, String detail, String param, Duration retryAfter) {
        super(detail);
        this.status = status;
        this.error = error;
        this.param = param;
        this.retryAfter = retryAfter;
    }

    public static ApiException badRequest(String detail) {
        return new ApiException(400, "bad_request", detail);
    }

    /** A 400 that names the request field at fault. */
    public static ApiException badParam(String param, String detail) {
        return new ApiException(400, "bad_request", detail, param, null);
    }

    public static ApiException notFound(String detail) {
        return new ApiException(404, "not_found", detail);
    }

    public int status() {
        return status;
    }

    public String error() {
        return error;
    }

    public String detail() {
        return getMessage();
    }

    public Optional<String> param() {
        return Optional.ofNullable(param);
    }

    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
