package io.streamingllm.core;

import java.util.regex.Pattern;

/**
 * Agent and conversation ids. They become file names, so the pattern admits no separator,
 * no leading dot and nothing longer than 128 characters.
 */
public final class Ids {
    public static final Pattern PATTERN = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private Ids() {
    }

    public static boolean isValid(String id) {
        return id != null && PATTERN.matcher(id).matches();
    }

    /** Returns {@code id} when valid, else throws {@link InvalidIdException} naming the kind. */
    public static String require(String kind, String id) {
        if (!isValid(id)) {
            throw new InvalidIdException(kind, id);
        }
        return id;
    }

    /** A new random conversation id (time-ordered prefix so listings sort by creation). */
    public static String newConversationId() {
        return "c-" + Long.toString(System.currentTimeMillis(), 36) + "-"
                + Long.toString(java.util.concurrent.ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE, 36);
    }
}
