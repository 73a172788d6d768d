package io.streamingllm.core.engine;

import java.util.Locale;

/** Why a generation ended; logged as {@code finish_reason}. */
public enum FinishReason {
    STOP, LENGTH, CANCELLED, ERROR,
    /** The model called tools; the client runs them and continues with their results. */
    TOOL_CALLS;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
