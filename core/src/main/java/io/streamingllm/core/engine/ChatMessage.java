package io.streamingllm.core.engine;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * One message of a chat prompt.
 *
 * @param toolCalls  the tools an assistant message calls (empty otherwise)
 * @param toolCallId the call a {@code tool} message answers (null otherwise)
 * @param toolName   the function whose result a {@code tool} message carries (Ollama's {@code tool_name}; null otherwise)
 */
public record ChatMessage(Role role, String content, List<ToolCall> toolCalls, String toolCallId, String toolName) {
    public enum Role {
        SYSTEM, USER, ASSISTANT,
        /** A tool's result handed back to the model (OpenAI and Ollama {@code tool}). */
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
        toolCalls = toolCalls == null ? List.of() : List.copyOf(toolCalls);
    }

    public ChatMessage(Role role, String content) {
        this(role, content, List.of(), null, null);
    }

    /** An assistant message that calls tools. */
    public static ChatMessage toolCalls(String content, List<ToolCall> calls) {
        return new ChatMessage(Role.ASSISTANT, content, calls, null, null);
    }

    /** A tool's result answering call {@code callId} of function {@code name}. */
    public static ChatMessage toolResult(String callId, String name, String content) {
        return new ChatMessage(Role.TOOL, content, List.of(), callId, name);
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
