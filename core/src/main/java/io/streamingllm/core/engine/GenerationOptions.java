package io.streamingllm.core.engine;

import java.util.List;

/**
 * Options of one generation. Null means "engine default".
 *
 * @param temperature   sampling temperature; 0 is greedy
 * @param maxNewTokens  cap on generated tokens (finish reason {@code length} when reached)
 * @param seed          sampling seed
 * @param stop          stop strings
 * @param contextTokens context the engine must hold (Ollama {@code num_ctx}): window plus max tokens
 * @param keepTokens    prompt tokens the engine must never drop (Ollama {@code num_keep}): covers the sink
 * @param format        the shape the text must have (never null: {@link ResponseFormat#NONE} for free text)
 * @param topP          nucleus sampling mass (OpenAI {@code top_p}, Ollama {@code options.top_p})
 * @param model         the model the request names; null means the engine's configured {@link ModelEngine#model()}
 * @param tools         the tools the model may call (never null: {@link ToolOptions#NONE})
 */
public record GenerationOptions(Double temperature, Integer maxNewTokens, Long seed, List<String> stop,
                                Integer contextTokens, Integer keepTokens, ResponseFormat format, Double topP,
                                String model, ToolOptions tools) {
    public static final GenerationOptions DEFAULTS = new GenerationOptions(null, null, null, List.of(), null, null);

    public GenerationOptions {
        stop = stop == null ? List.of() : List.copyOf(stop);
        format = format == null ? ResponseFormat.NONE : format;
        tools = tools == null ? ToolOptions.NONE : tools;
    }

    public GenerationOptions(Double temperature, Integer maxNewTokens, Long seed, List<String> stop,
                             Integer contextTokens, Integer keepTokens, ResponseFormat format, Double topP,
                             String model) {
        this(temperature, maxNewTokens, seed, stop, contextTokens, keepTokens, format, topP, model, ToolOptions.NONE);
    }

    public GenerationOptions(Double temperature, Integer maxNewTokens, Long seed, List<String> stop,
                             Integer contextTokens, Integer keepTokens, ResponseFormat format) {
        this(temperature, maxNewTokens, seed, stop, contextTokens, keepTokens, format, null, null);
    }

    /** Free text. */
    public GenerationOptions(Double temperature, Integer maxNewTokens, Long seed, List<String> stop,
                             Integer contextTokens, Integer keepTokens) {
        this(temperature, maxNewTokens, seed, stop, contextTokens, keepTokens, ResponseFormat.NONE);
    }

    public GenerationOptions withMaxNewTokens(Integer n) {
        return new GenerationOptions(temperature, n, seed, stop, contextTokens, keepTokens, format, topP, model, tools);
    }

    public GenerationOptions withContext(Integer contextTokens, Integer keepTokens) {
        return new GenerationOptions(temperature, maxNewTokens, seed, stop, contextTokens, keepTokens, format, topP, model, tools);
    }

    public GenerationOptions withFormat(ResponseFormat format) {
        return new GenerationOptions(temperature, maxNewTokens, seed, stop, contextTokens, keepTokens, format, topP, model, tools);
    }

    public GenerationOptions withTopP(Double topP) {
        return new GenerationOptions(temperature, maxNewTokens, seed, stop, contextTokens, keepTokens, format, topP, model, tools);
    }

    /** The tools the model may call. */
    public GenerationOptions withTools(ToolOptions tools) {
        return new GenerationOptions(temperature, maxNewTokens, seed, stop, contextTokens, keepTokens, format, topP, model, tools);
    }

    /** The model this request names (null: the engine's configured one). */
    public GenerationOptions withModel(String model) {
        return new GenerationOptions(temperature, maxNewTokens, seed, stop, contextTokens, keepTokens, format, topP, model, tools);
    }
}
