package io.streamingllm.core.engine;

import java.util.Locale;
import java.util.Objects;

/**
 * Result of an engine probe.
 *
 * @param status  what the probe found
 * @param message one line: ready, or what is missing and what to do
 */
public record EngineHealth(Status status, String message) {
    public enum Status {
        /** The engine serves the model. */
        READY,
        /** The engine cannot be reached (e.g. Ollama not running). */
        UNREACHABLE,
        /** The engine runs but lacks the model (e.g. not pulled). */
        MODEL_MISSING,
        /** Anything else (an unexpected answer, an interrupted probe). */
        ERROR;

        /** The name in {@code /readyz} and the start-up line: {@code ready}, {@code model_missing}, … */
        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public EngineHealth {
        Objects.requireNonNull(status, "status");
    }

    public boolean ready() {
        return status == Status.READY;
    }

    public static EngineHealth ready(String message) {
        return new EngineHealth(Status.READY, message);
    }
}
