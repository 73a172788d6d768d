package io.streamingllm.server;

import io.streamingllm.core.config.ConfigException;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.echo.EchoEngine;
import io.streamingllm.core.engine.ollama.OllamaEngine;
import io.streamingllm.core.engine.openai.OpenAiEngine;
import io.streamingllm.core.engine.pool.UpstreamPool;
import io.streamingllm.local.LocalEngine;

/** The engine {@code STREAMING_LLM_MODEL} names; several upstream URLs make a pool of that engine. */
final class Engines {
    private Engines() {
    }

    /**
     * Throws {@link ConfigException} or {@link EngineException} (one line) when the
     * engine cannot be built, e.g. a GGUF file this engine cannot run or an Ollama-store model not pulled.
     */
    static ModelEngine create(SidecarConfig config) {
        return switch (config.model().kind()) {
            case ECHO -> new EchoEngine(config.echoDelayMs());
            case OLLAMA -> UpstreamPool.of(config.ollamaUrls(), url -> new OllamaEngine(url, config.model().name(),
                    config.tokenTimeout(), config.limits().maxUpstreamLineBytes()));
            case OPENAI -> UpstreamPool.of(config.openAiUrls(), url -> new OpenAiEngine(url, config.model().name(),
                    config.openAiApiKey().value(), config.tokenTimeout(), OpenAiEngine.MAX_RETRY_WAIT,
                    config.limits().maxUpstreamLineBytes()));
            case GGUF, OLLAMA_STORE -> LocalEngine.open(config, System.getenv(), Runtime.getRuntime().availableProcessors());
        };
    }
}
