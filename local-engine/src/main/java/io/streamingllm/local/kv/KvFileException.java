package io.streamingllm.local.kv;

/**
 * A saved cache that cannot be used here; the message says why: another model, engine revision or cache
 * size (a mismatch), or a damaged file ({@link #corrupt()}).
 */
public final class KvFileException extends Exception {
    private final boolean corrupt;

    KvFileException(String message, boolean corrupt) {
        super(message);
        this.corrupt = corrupt;
    }

    static KvFileException mismatch(String message) {
        return new KvFileException(message, false);
    }

    static KvFileException corrupt(String message) {
        return new KvFileException(message, true);
    }

    /** True for a damaged file (truncated, bad checksum, impossible contents), false for a mismatch. */
    public boolean corrupt() {
        return corrupt;
    }
}
