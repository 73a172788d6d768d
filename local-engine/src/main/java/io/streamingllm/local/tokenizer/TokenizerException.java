package io.streamingllm.local.tokenizer;

/** The model's tokenizer metadata is missing, malformed or of a kind this engine does not support. */
public class TokenizerException extends RuntimeException {
    public TokenizerException(String message) {
        super(message);
    }
}
