package io.streamingllm.core.engine;

import java.util.List;
import java.util.Objects;

/**
 * The tools of one generation and how the model may use them.
 *
 * @param definitions the functions offered (empty: no tool calling)
 * @param choice      OpenAI's {@code tool_choice}
 * @param function    the function {@link Choice#FUNCTION} forces, else null
 * @param parallel    OpenAI's {@code parallel_tool_calls}; null means the upstream's default
 */
public record ToolOptions(List<ToolDefinition> definitions, Choice choice, String function, Boolean parallel) {
    public static final ToolOptions NONE = new ToolOptions(List.of(), Choice.AUTO, null, null);

    /** OpenAI's {@code tool_choice}: auto, none, required, or one named function. */
    public enum Choice { AUTO, NONE, REQUIRED, FUNCTION }

    public ToolOptions {
        definitions = definitions == null ? List.of() : List.copyOf(definitions);
        Objects.requireNonNull(choice, "choice");
        if (choice == Choice.FUNCTION && (function == null || definitions.stream().noneMatch(d -> d.name().equals(function)))) {
            throw new IllegalArgumentException("tool_choice names function " + function + ", which is not among the tools");
        }
    }

    /** Whether the model may call tools in this generation. */
    public boolean enabled() {
        return !definitions.isEmpty() && choice != Choice.NONE;
    }
}
