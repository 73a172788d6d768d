package io.streamingllm.core.engine;

import java.util.Locale;
import java.util.Objects;

/** One message of a chat prompt. */
public record ChatMessage(Role role, String content) {
    public enum Role {
        SYSTEM, USER, ASSISTANT,
        /** A tool's result handed back to the model (OpenAI and Ollama {@code tool}); the call itself is not modelled yet. */
        TOOL;

        /** Ollama/OpenAI wire name: system, user, assistant, tool. */
        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** Parses a wire name; other roles are not supported and throw. */
        public static Role fromWire(String s) {
            return switch (s == null ? "" : s.toLowerCase(Locale.ROOT)) {
                case "system" -> SYSTEM;
                case "user" -> USER;
                case "assistant" -> ASSISTANT;
                case "tool" -> TOOL;
                default -> throw new IllegalArgumentException("unknown message role: " + s);
            };
        }
    }

    public ChatMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(content, "content");
    }

    public static ChatMessage system(String content) {
        return new ChatMessage(Role.SYSTEM, content);
    }

    public static ChatMessage user(String content) {
        return new ChatMessage(Role.USER, content);
    }

    public static ChatMessage assistant(String content) {
        return new ChatMessage(Role.ASSISTANT, content);
    }
}
