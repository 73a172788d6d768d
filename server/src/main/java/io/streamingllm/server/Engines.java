package io.streamingllm.server;

import io.streamingllm.core.config.ConfigException;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.EchoEngine;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.OllamaEngine;

/** The engine {@code STREAMING_LLM_MODEL} names. */
final class Engines {
    private Engines() {
    }

    /** Throws {@link ConfigException} (one line) when the engine cannot be built. */
    static ModelEngine create(SidecarConfig config) {
        return switch (config.model().kind()) {
            case ECHO -> new EchoEngine(config.echoDelayMs());
            case OLLAMA -> new OllamaEngine(config.ollamaUrl(), config.model().name(), config.tokenTimeout());
            case GGUF, OLLAMA_STORE -> throw new ConfigException(SidecarConfig.MODEL, SidecarConfig.MODEL + "="
                    + config.model().name() + ": local engine not available in this build;"
                    + " use an Ollama model (NAME[:TAG]) or echo");
        };
    }
}
