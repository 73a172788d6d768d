package io.streamingllm.local;

import static org.junit.jupiter.api.Assertions.*;

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
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine on a generated qwen2 model (no shared files needed): prompt, greedy tokens and counts. */
class LocalEngineRandomModelTest {
    @TempDir
    Path dir;

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
}
