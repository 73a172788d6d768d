package io.streamingllm.local;

import io.streamingllm.core.engine.ToolDefinition;
import io.streamingllm.core.engine.ToolOptions;
import io.streamingllm.local.json.JsonConstraint;
import io.streamingllm.local.json.JsonMode;
import io.streamingllm.local.template.ChatTemplate.ToolFormat;
import io.streamingllm.local.tokenizer.Tokenizer;
import jakarta.json.Json;
import jakarta.json.JsonString;
import java.io.ByteArrayOutputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code tool_choice} {@code required} or a named function on the local engine: the reply is made to be a call in the
 * template's format. The call's markup is fed to the model as if it had written it, and what it does write is held to
 * JSON: the function's name to one of the offered tools', the arguments to the tool's {@code parameters} schema
 * ({@link JsonMode#arguments}). Hermes: {@code <tool_call>\n{"name": "NAME", "arguments": ARGS}\n</tool_call>}, after
 * which the model may go on (more calls, or text) unless {@code parallel_tool_calls} is false; Llama 3.1:
 * {@code {"name": "NAME", "parameters": ARGS}}, which ends the reply (its template knows one call a message). With a
 * named function (or a single tool) the name is part of the forced opening; otherwise the model picks it.
 *
 * <p>One per generation, on the engine's worker. The forced tokens count as generated tokens.
 */
final class ForcedCall {
    private enum Part { NAME, ARGUMENTS, CLOSED }

    private final Tokenizer tokenizer;
    private final int[] opening, separator, closing;
    private final JsonConstraint name;
    private final Map<String, JsonConstraint> arguments;
    private final int leastArguments;
    private final boolean endsReply;
    private final ByteArrayOutputStream nameBytes = new ByteArrayOutputStream();
    private Part part;
    private JsonConstraint current;

    private ForcedCall(Tokenizer tokenizer, int[] opening, int[] separator, int[] closing, JsonConstraint name,
                       Map<String, JsonConstraint> arguments, boolean endsReply) {
        this.tokenizer = tokenizer;
        this.opening = opening;
        this.separator = separator;
        this.closing = closing;
        this.name = name;
        this.arguments = arguments;
        this.leastArguments = arguments.values().stream().mapToInt(JsonConstraint::leastTokens).max().orElse(2);
        this.endsReply = endsReply;
        this.part = name != null ? Part.NAME : Part.ARGUMENTS;
        this.current = name != null ? name : arguments.values().iterator().next();
    }

    /**
     * The forced call of a generation that offers {@code offered} under {@code tools}, or null when the model is free
     * not to call ({@code auto}). {@link IllegalArgumentException} when it cannot be forced: a vocabulary without the
     * bytes JSON needs, or {@code maxNewTokens} too few for the smallest call.
     */
    static ForcedCall plan(JsonMode json, Tokenizer tokenizer, ToolFormat format, ToolOptions tools,
                           List<ToolDefinition> offered, int maxNewTokens) {
        boolean forced = tools.choice() == ToolOptions.Choice.REQUIRED || tools.choice() == ToolOptions.Choice.FUNCTION;
        if (!forced || offered.isEmpty() || format == ToolFormat.NONE) {
            return null;
        }
        String open = format == ToolFormat.HERMES ? "<tool_call>\n{\"name\":" : "{\"name\":";
        String argumentsKey = format == ToolFormat.HERMES ? "arguments" : "parameters";
        String between = ", \"" + argumentsKey + "\":";
        String close = format == ToolFormat.HERMES ? "}\n</tool_call>" : "}";
        Map<String, JsonConstraint> arguments = new LinkedHashMap<>();
        for (ToolDefinition d : offered) {
            arguments.put(d.name(), json.arguments(d.parameters(), Integer.MAX_VALUE));
        }
        JsonConstraint name = null;
        int[] opening;
        if (offered.size() == 1) {
            opening = json.spell(open + " " + Json.createValue(offered.getFirst().name()) + between);
        } else {
            opening = json.spell(open);
            name = json.oneOf(offered.stream().map(ToolDefinition::name).toList(), Integer.MAX_VALUE);
        }
        boolean endsReply = format == ToolFormat.LLAMA3_JSON || Boolean.FALSE.equals(tools.parallel());
        ForcedCall call = new ForcedCall(tokenizer, opening, json.spell(between), json.spell(close), name, arguments,
                endsReply);
        int least = call.opening.length + (name == null ? 0 : name.leastTokens() + call.separator.length)
                + call.leastArguments + call.closing.length;
        if (least > maxNewTokens) {
            throw new IllegalArgumentException("max_new_tokens " + maxNewTokens + " is too small for the tool call "
                    + "tool_choice requires: the smallest takes " + least + " tokens");
        }
        return call;
    }

    /** The call's opening, to feed right after the prompt as the reply's first tokens. */
    int[] opening() {
        return opening;
    }

    /** What holds the next token, or null once the call is closed (the model writes freely). */
    JsonConstraint constraint() {
        return current;
    }

    /** Tokens that must still follow the part being written: the budget it may not use. */
    int reserved() {
        return switch (part) {
            case NAME -> separator.length + leastArguments + closing.length;
            case ARGUMENTS -> closing.length;
            case CLOSED -> 0;
        };
    }

    /**
     * Takes the token the model wrote under {@link #constraint()}; when it completes the name or the arguments, the
     * forced tokens that follow it (the separator, or the call's end), to feed at once; else null.
     */
    int[] accept(int token) {
        current.accept(token);
        if (part == Part.NAME) {
            nameBytes.writeBytes(tokenizer.decodeBytes(token));
        }
        if (!current.mustEnd()) {
            return null;
        }
        if (part == Part.NAME) {
            String chosen = ((JsonString) Json.createReader(new StringReader(nameBytes.toString(StandardCharsets.UTF_8)))
                    .readValue()).getString();
            part = Part.ARGUMENTS;
            current = arguments.get(chosen);
            return separator;
        }
        part = Part.CLOSED;
        current = null;
        return closing;
    }

    /** The call is closed and the reply ends with it (Llama 3.1, or {@code parallel_tool_calls: false}). */
    boolean endsReply() {
        return part == Part.CLOSED && endsReply;
    }
}
