package io.streamingllm.server.edge;

import io.streamingllm.server.json.JsonText;

/**
 * The JSON an error is answered with, in the shape of the API the request came to: under {@value #OPENAI_PREFIX},
 * OpenAI's {@code {"error":{"message","type","param","code"}}}, which OpenAI's clients parse into their typed
 * exceptions; everywhere else the sidecar's own {@code {"error","detail"}} (which Ollama's clients read, as they
 * read Ollama's {@code {"error"}}). Every error path (handlers, filters, unknown routes, Helidon's own refusals)
 * writes through here, so the shape is chosen in one place.
 */
public final class ErrorBodies {
    /** Where the OpenAI-compatible API is mounted. */
    public static final String OPENAI_PREFIX = "/v1";

    private ErrorBodies() {
    }

    /** Whether {@code path} (the request's raw or decoded path) is under the OpenAI-compatible API. */
    public static boolean openAi(String path) {
        return path != null && path.startsWith(OPENAI_PREFIX)
                && (path.length() == OPENAI_PREFIX.length() || "/?#".indexOf(path.charAt(OPENAI_PREFIX.length())) >= 0);
    }

    /** The body for {@code error} answered to a request for {@code path}. */
    public static String forPath(String path, ApiException error) {
        return openAi(path) ? openAiBody(error) : sidecarBody(error.error(), error.detail());
    }

    /** The sidecar's (and the Ollama-compatible API's) {@code {"error","detail"}}. */
    public static String sidecarBody(String error, String detail) {
        StringBuilder sb = new StringBuilder(64 + detail.length());
        sb.append("{\"error\":");
        JsonText.quoteInto(sb, error);
        sb.append(",\"detail\":");
        JsonText.quoteInto(sb, detail);
        return sb.append('}').toString();
    }

    /** OpenAI's {@code {"error":{"message","type","param","code"}}}. */
    public static String openAiBody(ApiException error) {
        StringBuilder sb = new StringBuilder(128 + error.detail().length());
        openAiError(sb, error);
        return sb.toString();
    }

    /** Appends OpenAI's error object, also used as an SSE record when a stream fails after it started. */
    public static void openAiError(StringBuilder sb, ApiException error) {
        sb.append("{\"error\":{\"message\":");
        JsonText.quoteInto(sb, error.detail());
        sb.append(",\"type\":");
        JsonText.quoteInto(sb, openAiType(error.status()));
        sb.append(",\"param\":");
        if (error.param().isPresent()) {
            JsonText.quoteInto(sb, error.param().get());
        } else {
            sb.append("null");
        }
        sb.append(",\"code\":");
        JsonText.quoteInto(sb, openAiCode(error));
        sb.append("}}");
    }

    /** OpenAI's error types: the class of failure its clients branch on. */
    static String openAiType(int status) {
        return switch (status) {
            case 401 -> "authentication_error";
            case 403 -> "permission_error";
            case 429 -> "rate_limit_error";
            default -> status >= 500 ? "server_error" : "invalid_request_error";
        };
    }

    /** The sidecar's codes, renamed where OpenAI has its own name for the same thing. */
    static String openAiCode(ApiException error) {
        return switch (error.error()) {
            case "unauthorized" -> "invalid_api_key";
            case "rate_limited" -> "rate_limit_exceeded";
            default -> error.error();
        };
    }
}
