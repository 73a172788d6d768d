package io.streamingllm.core.engine;

import java.util.Locale;

/** Why a generation ended; logged as {@code finish_reason}. */
public enum FinishReason {
    STOP, LENGTH, CANCELLED, ERROR;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
