package io.streamingllm.core;

/** An agent or conversation id that does not match {@link Ids#PATTERN}. */
public final class InvalidIdException extends IllegalArgumentException {
    private final String kind;

    public InvalidIdException(String kind, String id) {
        super("invalid " + kind + " id " + describe(id) + ": must match " + Ids.PATTERN.pattern());
        this.kind = kind;
    }

    public String kind() {
        return kind;
    }

    private static String describe(String id) {
        if (id == null) {
            return "(missing)";
        }
        if (id.isEmpty()) {
            return "\"\" (empty)";
        }
        StringBuilder sb = new StringBuilder("\"");
        int shown = Math.min(id.length(), 40);
        for (int i = 0; i < shown; i++) {
            char c = id.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        sb.append(id.length() > shown ? "…\" (" + id.length() + " chars)" : "\"");
        return sb.toString();
    }
}
