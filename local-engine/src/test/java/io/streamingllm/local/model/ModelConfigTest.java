package io.streamingllm.local.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamingllm.local.gguf.GgmlType;
import io.streamingllm.local.gguf.GgufException;
import io.streamingllm.local.gguf.GgufFile;
import io.streamingllm.local.testing.GgufWriter;
import io.streamingllm.local.testing.RandomModel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the architectures read from their metadata, and the errors for files the engine cannot run. */
class ModelConfigTest {
    @TempDir
    Path dir;

    @Test
    void gemma3SlidesFiveLayersOfSixWithItsOwnRopeBaseAndScalesItsEmbeddings() throws Exception {
        Path file = dir.resolve("g.gguf");
        RandomModel.write(file, "gemma3", GgmlType.F32, 1);
        try (GgufFile gguf = GgufFile.open(file)) {
            ModelConfig c = ModelConfig.fromGguf(gguf);
            assertTrue(c.ropeNeox());
            assertEquals(RandomModel.GEMMA3_WINDOW, c.variant().slidingWindow());
            assertEquals(10000f, c.variant().slidingRopeTheta());
            assertEquals(1e6f, c.ropeTheta());
            assertEquals(16f, c.variant().embeddingScale()); // sqrt(256)
            assertTrue(c.variant().geluFfn());
            assertEquals((float) (1 / Math.sqrt(64)), c.variant().attentionScale());
            assertEquals(0f, c.variant().finalLogitSoftcap());
            for (int l = 0; l < 5; l++) {
                assertTrue(c.sliding(l), "layer " + l);
            }
            assertFalse(c.sliding(5));
        }
    }

    @Test
    void qwen3TakesItsHeadSizeFromKeyLengthAndLlamaNeverSlides() throws Exception {
        Path q = dir.resolve("q.gguf");
        RandomModel.write(q, "qwen3", GgmlType.F32, 1);
        Path l = dir.resolve("l.gguf");
        RandomModel.write(l, "llama", GgmlType.F32, 1);
        try (GgufFile qwen3 = GgufFile.open(q); GgufFile llama = GgufFile.open(l)) {
            ModelConfig c = ModelConfig.fromGguf(qwen3);
            assertEquals(128, c.headSize());
            assertEquals(512, c.qDim());
            assertEquals(256, c.dim());
            assertFalse(c.sliding(5));
            ModelConfig ll = ModelConfig.fromGguf(llama);
            assertFalse(ll.ropeNeox());
            assertFalse(ll.sliding(5));
            assertEquals(1f, ll.variant().embeddingScale());
        }
    }

    @Test
    void unknownArchitecturesAndMissingNormsAreNamed() throws Exception {
        Path mamba = dir.resolve("m.gguf");
        new GgufWriter().putString("general.architecture", "mamba").add("token_embd.weight", GgmlType.F32, new float[8], 4, 2)
                .write(mamba);
        try (GgufFile gguf = GgufFile.open(mamba)) {
            GgufException e = assertThrows(GgufException.class, () -> ModelConfig.fromGguf(gguf));
            assertTrue(e.getMessage().contains("mamba") && e.getMessage().contains(ModelConfig.SUPPORTED), e.getMessage());
        }
        // a llama file relabelled qwen3 lacks the q/k norms qwen3 needs
        Path file = dir.resolve("relabelled.gguf");
        RandomModel.write(file, "llama", GgmlType.F32, 1);
        byte[] bytes = Files.readAllBytes(file);
        String text = new String(bytes, StandardCharsets.ISO_8859_1).replace("llama", "qwen3");
        Files.write(file, text.getBytes(StandardCharsets.ISO_8859_1));
        assertEquals(bytes.length, Files.size(file), "same-length relabel");
        try (GgufFile gguf = GgufFile.open(file)) {
            ModelConfig c = ModelConfig.fromGguf(gguf);
            GgufException e = assertThrows(GgufException.class, () -> Weights.fromGguf(gguf, c));
            assertTrue(e.getMessage().contains("blk.0.attn_q_norm.weight"), e.getMessage());
        }
    }
}
