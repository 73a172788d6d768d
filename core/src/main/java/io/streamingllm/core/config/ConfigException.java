package io.streamingllm.core.config;

/** A configuration problem; the message is one line naming the variable and the bad value. */
public final class ConfigException extends RuntimeException {
    private final String variable;

    public ConfigException(String variable, String message) {
        super(message);
        this.variable = variable;
    }

    public String variable() {
        return variable;
    }
}
