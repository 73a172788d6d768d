package io.streamingllm.core.session;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.ToolCall;

/**
 * What a summary says of tool use: the tool's name and a short piece of its arguments or result, never the whole
 * payload (a search result or a file can be far larger than the summary's budget).
 */
final class ToolNotes {
    static final int SHORT = 60;

    private ToolNotes() {
    }

    /** An assistant message: its text, then one {@code [called name(args…)]} per call. */
    static String reply(ChatMessage m) {
        if (m.toolCalls().isEmpty()) {
            return m.content();
        }
        StringBuilder out = new StringBuilder(m.content());
        for (ToolCall c : m.toolCalls()) {
            out.append(out.isEmpty() ? "" : " ").append("[called ").append(c.name()).append('(')
                    .append(shorten(c.arguments())).append(")]");
        }
        return out.toString();
    }

    /** A tool's result: {@code [name -> result…]}. */
    static String result(ChatMessage m) {
        String name = m.toolName() != null ? m.toolName() : m.toolCallId() != null ? m.toolCallId() : "tool";
        return "[" + name + " -> " + shorten(m.content()) + "]";
    }

    private static String shorten(String s) {
        String flat = s.strip().replaceAll("\\s+", " ");
        if (flat.length() <= SHORT) {
            return flat;
        }
        int end = Character.isHighSurrogate(flat.charAt(SHORT - 1)) ? SHORT - 1 : SHORT;
        return flat.substring(0, end) + "…";
    }
}
