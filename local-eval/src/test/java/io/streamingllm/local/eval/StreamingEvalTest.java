package io.streamingllm.local.eval;

import static org.junit.jupiter.api.Assertions.*;

import io.streamingllm.local.gguf.GgmlType;
import io.streamingllm.local.model.KvCache;
import io.streamingllm.local.model.LoadedModel;
import io.streamingllm.local.testing.RandomModel;
import java.awt.Color;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The evaluation modes on a tiny random model: deterministic stream, modes agreeing where they must. */
class StreamingEvalTest {
    @TempDir
    Path dir;

    @Test
    void modesAgreeWhileTheStreamFitsAndDivergeAfter() throws Exception {
        Path file = dir.resolve("tiny.gguf");
        RandomModel.write(file, "llama", GgmlType.F32, 21, 256, 256, 1, 4, 2, 300, true);
        try (LoadedModel m = LoadedModel.open(file, 1)) {
            int[] stream = StreamingEval.sampleStories(m.transformer(), 80, 1, 2, 9, 1.0f, 0.9f, 24);
            assertArrayEquals(stream, StreamingEval.sampleStories(m.transformer(), 80, 1, 2, 9, 1.0f, 0.9f, 24),
                    "the same seed samples the same stream");
            assertEquals(1, stream[0]);
            assertTrue(Arrays.stream(stream).filter(t -> t == 1).count() >= 80 / 24, "stories restart from BOS");

            // the modes on random tokens: a random model's own samples are near-certain under it (NLL ~ 0 everywhere)
            stream = new Random(4).ints(80, 3, 300).toArray();
            StreamingEval eval = new StreamingEval(m.transformer());
            StreamingEval.Run dense = eval.dense(stream);
            StreamingEval.Run big = eval.streaming(128, 4, stream);
            assertArrayEquals(dense.nll(), big.nll(), "a cache holding the whole stream is dense attention");
            StreamingEval.Run small = eval.streaming(16, 4, stream);
            assertArrayEquals(Arrays.copyOf(dense.nll(), 16), Arrays.copyOf(small.nll(), 16));
            assertFalse(Arrays.equals(Arrays.copyOfRange(dense.nll(), 16, 79), Arrays.copyOfRange(small.nll(), 16, 79)),
                    "after eviction the context differs");

            StreamingEval.Run recompute = eval.recompute(16, stream, 3);
            for (int t = 0; t < stream.length - 1; t++) {
                if (t % 3 != 2) {
                    assertTrue(Double.isNaN(recompute.nll()[t]));
                } else if (t < 16) {
                    assertEquals(dense.nll()[t], recompute.nll()[t], 1e-4, "recompute over the whole prefix at " + t);
                } else {
                    assertTrue(recompute.nll()[t] > 0);
                }
            }
            StreamingEval.Run window = eval.window(16, stream);
            assertEquals(dense.nll()[15], window.nll()[15], 1e-9);
            // the window at t re-uses keys computed with more context, so it is not the recompute; both are finite
            assertTrue(Double.isFinite(window.nll()[59]));

            AttentionMass.Result mass = AttentionMass.measure(m.transformer(),
                    KvCache.dense(m.config(), 80), stream, 3, 4, 4, 40);
            assertEquals(36, mass.tokens());
            double f = mass.firstMass()[0][0];
            assertTrue(f > 0 && f < 1, "mass on the first tokens is a probability: " + f);

            LinePlot plot = new LinePlot("t", "x", "y", true);
            plot.add(new LinePlot.Series("s", new double[] {1, 2, 3}, new double[] {1, 10, Double.NaN}, Color.RED, false));
            Path png = dir.resolve("p.png");
            plot.write(png);
            assertEquals(1100, ImageIO.read(png.toFile()).getWidth());
            assertTrue(Files.size(png) > 1000);
        }
    }
}
