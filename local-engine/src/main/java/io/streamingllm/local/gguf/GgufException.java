package io.streamingllm.local.gguf;

/** A GGUF file that cannot be used: truncated, not GGUF, an unsupported version or tensor type. */
public class GgufException extends RuntimeException {
    public GgufException(String message) {
        super(message);
    }

    public GgufException(String message, Throwable cause) {
        super(message, cause);
    }
}
