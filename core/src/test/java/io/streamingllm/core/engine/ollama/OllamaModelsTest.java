package io.streamingllm.core.engine.ollama;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.Embeddings;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.ModelInfo;
import io.streamingllm.core.testing.FakeOllama;
import jakarta.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An Ollama upstream serves many models: the one a request names, its model list and its embeddings. */
class OllamaModelsTest {
    private static final List<ChatMessage> HELLO = List.of(ChatMessage.user("hello there"));

    private FakeOllama ollama;
    private OllamaEngine engine;

    @BeforeEach
    void start() {
        ollama = FakeOllama.start("llama3.2:latest", "qwen2:0.5b", "all-minilm");
        engine = new OllamaEngine(ollama.baseUri(), "llama3.2:latest", Duration.ofSeconds(10));
    }

    @AfterEach
    void stop() {
        engine.close();
        ollama.close();
    }

    @Test
    void theRequestedModelAndTopPReachOllamaAndTheConfiguredOneOtherwise() throws Exception {
        engine.generate(HELLO, GenerationOptions.DEFAULTS.withModel("qwen2:0.5b").withTopP(0.25), d -> { })
                .result().get(10, TimeUnit.SECONDS);
        JsonObject named = ollama.awaitExchange("/api/chat", 0, Duration.ofSeconds(5)).json();
        assertEquals("qwen2:0.5b", named.getString("model"));
        assertEquals(0.25, named.getJsonObject("options").getJsonNumber("top_p").doubleValue());
        engine.generate(HELLO, GenerationOptions.DEFAULTS, d -> { }).result().get(10, TimeUnit.SECONDS);
        assertEquals("llama3.2:latest", ollama.awaitExchange("/api/chat", 1, Duration.ofSeconds(5)).json().getString("model"));
    }

    @Test
    void aNamedModelOllamaLacksIsModelNotFoundNamingIt() {
        ExecutionException e = assertThrows(ExecutionException.class, () -> engine.generate(HELLO,
                GenerationOptions.DEFAULTS.withModel("mistral"), d -> { }).result().get(10, TimeUnit.SECONDS));
        EngineException failure = assertInstanceOf(EngineException.class, e.getCause());
        assertEquals(EngineException.Kind.MODEL_NOT_FOUND, failure.kind());
        assertTrue(failure.getMessage().contains("ollama pull mistral"), failure.getMessage());
    }

    @Test
    void modelsAreOllamasTags() {
        List<ModelInfo> models = engine.models();
        assertEquals(List.of("llama3.2:latest", "qwen2:0.5b", "all-minilm:latest"),
                models.stream().map(ModelInfo::id).toList());
        assertEquals(1735689600L, models.getFirst().createdSeconds(), "modified_at 2025-01-01T00:00:00Z");
        assertEquals("ollama", models.getFirst().ownedBy());
    }

    @Test
    void embedGoesToApiEmbed() throws Exception {
        Embeddings e = engine.embed("all-minilm", List.of("one text", "another one here"));
        assertEquals("all-minilm", e.model());
        assertEquals(2, e.vectors().size());
        assertEquals(5, e.promptTokens());
        JsonObject sent = ollama.awaitExchange("/api/embed", 0, Duration.ofSeconds(5)).json();
        assertEquals("all-minilm", sent.getString("model"));
        assertEquals(2, sent.getJsonArray("input").size());
        assertArrayEquals(e.vectors().get(0), engine.embed("all-minilm", List.of("one text")).vectors().get(0));

        EngineException missing = assertThrows(EngineException.class, () -> engine.embed("nomic", List.of("x")));
        assertEquals(EngineException.Kind.MODEL_NOT_FOUND, missing.kind());
    }
}
