package io.streamingllm.core.engine;

/**
 * Result of an engine probe.
 *
 * @param status  {@code ready}, {@code unreachable} (e.g. Ollama not running), {@code model_missing}
 *                (e.g. not pulled) or {@code error}
 * @param message one line: ready, or what is missing and what to do
 */
public record EngineHealth(String status, String message) {
    public static final String READY = "ready";
    public static final String UNREACHABLE = "unreachable";
    public static final String MODEL_MISSING = "model_missing";
    public static final String ERROR = "error";

    public boolean ready() {
        return READY.equals(status);
    }

    public static EngineHealth ready(String message) {
        return new EngineHealth(READY, message);
    }
}
