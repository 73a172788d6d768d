package io.streamingllm.core.log;

import java.util.Locale;

/** Who an event is for: the user's transcript, or internal bookkeeping. */
public enum Visibility {
    USER, INTERNAL;

    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Visibility fromWire(String s) {
        return switch (s == null ? "" : s.toLowerCase(Locale.ROOT)) {
            case "user" -> USER;
            case "internal" -> INTERNAL;
            default -> throw new IllegalArgumentException("unknown visibility: " + s + " (user or internal)");
        };
    }
}
