package io.streamingllm.local;

import static org.junit.jupiter.api.Assertions.*;

import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.GenerationResult;
import io.streamingllm.local.gguf.GgmlType;
import io.streamingllm.local.model.KvCache;
import io.streamingllm.local.model.LoadedModel;
import io.streamingllm.local.model.Sampler;
import io.streamingllm.local.testing.RandomModel;
import io.streamingllm.local.tokenizer.StreamingDecoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine on a generated qwen2 model (no shared files needed): prompt, greedy tokens and counts. */
class LocalEngineRandomModelTest {
    @TempDir
    Path dir;

    @Test
    void ollamaStoreModelIsOpenedFromItsManifestBlob() throws Exception {
        Path models = dir.resolve("ollama-models");
        String hex = "0123456789abcdef".repeat(4);
        Path blob = models.resolve("blobs/sha256-" + hex);
        Files.createDirectories(blob.getParent());
        RandomModel.write(blob, "llama", GgmlType.Q4_K, 5);
        Path manifest = models.resolve("manifests/registry.ollama.ai/library/tiny/latest");
        Files.createDirectories(manifest.getParent());
        Files.writeString(manifest, "{\"layers\":[{\"mediaType\":\"application/vnd.ollama.image.model\","
                + "\"digest\":\"sha256:" + hex + "\"}]}");
        var config = SidecarConfig.fromEnv(Map.of(
                "STREAMING_LLM_MODEL", "ollama-store:tiny", "STREAMING_LLM_MAX_NEW_TOKENS", "3"));
        try (LocalEngine engine = LocalEngine.open(config, Map.of("OLLAMA_MODELS", models.toString()), 1)) {
            assertEquals("tiny", engine.model());
            assertEquals("llama", engine.config().architecture());
            assertTrue(engine.health().ready(), engine.health().message());
            GenerationResult r = engine.generate(List.of(ChatMessage.user("hi")), new GenerationOptions(0.0, null, null,
                    List.of(), null, null), d -> { }).result().get(60, TimeUnit.SECONDS);
            // the default cap comes from STREAMING_LLM_MAX_NEW_TOKENS unless an end token comes first
            if (r.finishReason() == FinishReason.LENGTH) {
                assertEquals(3, r.completionTokens());
            } else {
                assertEquals(FinishReason.STOP, r.finishReason());
                assertTrue(r.completionTokens() < 3);
            }
        }
    }

    @Test
    void greedyGenerationIsTheModelsArgmaxChainDecoded() throws Exception {
        Path file = dir.resolve("qwen2-q8.gguf");
        RandomModel.write(file, "qwen2", GgmlType.Q8_0, 21);
        List<ChatMessage> chat = List.of(ChatMessage.system("be brief"), ChatMessage.user("hello there"));
        try (LocalEngine engine = LocalEngine.open("random", file, 2, 4, 64, 16)) {
            int[] prompt = engine.template().render(chat);
            List<String> deltas = new CopyOnWriteArrayList<>();
            GenerationResult r = engine.generate(chat, new GenerationOptions(0.0, 6, null, List.of(), null, null), deltas::add)
                    .result().get(60, TimeUnit.SECONDS);
            assertEquals(prompt.length, r.promptTokens());
            assertEquals(String.join("", deltas), r.text());

            // the same chain computed directly: prefill, argmax, stop at an end token or after 6 tokens
            StringBuilder expected = new StringBuilder();
            int count = 0;
            FinishReason finish = FinishReason.LENGTH;
            try (LoadedModel m = LoadedModel.open(file, 1)) {
                KvCache cache = KvCache.streaming(m.config(), 4, 64);
                float[] logits = m.transformer().prefill(cache, prompt, true);
                StreamingDecoder decoder = new StreamingDecoder(engine.tokenizer(), false);
                while (count < 6) {
                    int t = Sampler.argmax(logits);
                    if (engine.template().stopTokenIds().contains(t)) {
                        finish = FinishReason.STOP;
                        break;
                    }
                    count++;
                    expected.append(decoder.accept(t));
                    logits = m.transformer().forward(cache, t);
                }
                expected.append(decoder.flush());
            }
            assertEquals(expected.toString(), r.text());
            assertEquals(count, r.completionTokens());
            assertEquals(finish, r.finishReason());
            assertEquals(engine.tokenizer().encode("hello there").length,
                    engine.exactTokenCounter().orElseThrow().count("hello there"));
        }
    }

    @Test
    void theFirstResultReportsTheModelLoadTimeAndLaterOnesNone() throws Exception {
        Path file = dir.resolve("llama-f32.gguf");
        RandomModel.write(file, "llama", GgmlType.F32, 3);
        GenerationOptions o = new GenerationOptions(0.0, 2, null, List.of(), null, null);
        try (LocalEngine engine = LocalEngine.open("random", file, 1, 4, 64, 16)) {
            GenerationResult first = engine.generate(List.of(ChatMessage.user("hi")), o, d -> { }).result().get(60, TimeUnit.SECONDS);
            GenerationResult second = engine.generate(List.of(ChatMessage.user("hi")), o, d -> { }).result().get(60, TimeUnit.SECONDS);
            assertTrue(first.loadNanos() > 0, "load time " + first.loadNanos());
            assertEquals(first.loadNanos() + first.promptEvalNanos() + first.evalNanos(), first.totalNanos(),
                    "the first total includes the load, as Ollama's total_duration does");
            assertEquals(0, second.loadNanos());
            assertEquals(second.promptEvalNanos() + second.evalNanos(), second.totalNanos());
        }
    }
}
