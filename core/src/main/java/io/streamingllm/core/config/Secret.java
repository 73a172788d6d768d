package io.streamingllm.core.config;

import java.util.Objects;

/**
 * A configured credential (an upstream's API key). Its {@link #toString()} never shows the value, so a configuration
 * printed in a log line or an error keeps it hidden; only {@link #value()} hands it out, to the code that sends it.
 *
 * @param value the credential, empty for none
 */
public record Secret(String value) {
    public static final Secret NONE = new Secret("");

    public Secret {
        value = Objects.requireNonNull(value, "value").strip();
    }

    public boolean isEmpty() {
        return value.isEmpty();
    }

    @Override
    public String toString() {
        return isEmpty() ? "Secret[none]" : "Secret[set]";
    }
}
