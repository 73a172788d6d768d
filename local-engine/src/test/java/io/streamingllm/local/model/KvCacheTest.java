package io.streamingllm.local.model;

import static org.junit.jupiter.api.Assertions.*;

import io.streamingllm.local.gguf.GgmlType;
import io.streamingllm.local.testing.RandomModel;
import io.streamingllm.local.testing.ReferenceModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KvCacheTest {
    static final ModelConfig TINY = new ModelConfig("llama", 8, 16, 1, 1, 1, 8, 10, 512, 1e-5f, 10000f, false, 8,
            new float[] {1, 1, 1, 1});

    @TempDir
    Path dir;

    /** Marks each reserved slot with its token's global position and returns the held positions in cache order. */
    private static List<Integer> append(KvCache cache, int n) {
        long first = cache.nextPosition();
        int[] slots = cache.reserve(n);
        for (int i = 0; i < n; i++) {
            cache.keys[0][slots[i] * TINY.kvDim()] = first + i;
        }
        List<Integer> held = new ArrayList<>();
        for (int i = 0; i < cache.length(); i++) {
            held.add((int) cache.keys[0][cache.slot(i) * TINY.kvDim()]);
        }
        return held;
    }

    @Test
    void keepsSinksAndTheNewestTokensInOrder() {
        KvCache cache = KvCache.streaming(TINY, 2, 3);
        assertEquals(List.of(0), append(cache, 1));
        assertEquals(List.of(0, 1, 2, 3, 4), List.copyOf(append(cache, 4)));
        assertFalse(cache.evicted());
        assertEquals(List.of(0, 1, 3, 4, 5), append(cache, 1));
        assertTrue(cache.evicted());
        assertEquals(List.of(0, 1, 4, 5, 6), append(cache, 1));
        // a batch evicts for its whole size first (evict_for_space), then appends
        assertEquals(List.of(0, 1, 7, 8, 9), append(cache, 3));
        assertEquals(2, cache.sinkCount());
        assertEquals(5, cache.length());
        assertEquals(10, cache.nextPosition());
        for (int t = 10; t < 1000; t++) {
            append(cache, 1 + t % 3);
        }
        List<Integer> held = append(cache, 1);
        long last = cache.nextPosition() - 1;
        assertEquals(List.of(0, 1, (int) last - 2, (int) last - 1, (int) last), held);
        // physical slots: sinks 0..1, recent a permutation of 2..4 (a ring, never copied)
        assertEquals(0, cache.slot(0));
        assertEquals(1, cache.slot(1));
        assertEquals(Set.of(2, 3, 4), Set.of(cache.slot(2), cache.slot(3), cache.slot(4)));
        IllegalStateException tooBig = assertThrows(IllegalStateException.class, () -> cache.reserve(4));
        assertTrue(tooBig.getMessage().contains("recent window of 3"));
    }

    /** Attention walks the cache with slotAfter: it must name the slot that slot(i + 1) names in every state. */
    @Test
    void slotAfterWalksTheCacheInSlotOrder() {
        List<KvCache> caches = List.of(KvCache.streaming(TINY, 2, 3), KvCache.streaming(TINY, 3, 1), KvCache.window(TINY, 3),
                KvCache.dense(TINY, 40));
        for (KvCache cache : caches) {
            for (int step = 0; step < 12; step++) {
                append(cache, 1 + step % Math.min(3, cache.maxBatch()));
                for (int i = 0; i + 1 < cache.length(); i++) {
                    assertEquals(cache.slot(i + 1), cache.slotAfter(i, cache.slot(i)),
                            "position " + (i + 1) + " of " + cache.length() + " at step " + step);
                }
            }
        }
    }

    @Test
    void windowKeepsOnlyRecentAndDenseRefusesPastCapacity() {
        KvCache window = KvCache.window(TINY, 3);
        append(window, 2);
        assertEquals(List.of(2, 3, 4), append(window, 3));
        assertEquals(0, window.sinkCount());

        KvCache dense = KvCache.dense(TINY, 4);
        assertEquals(List.of(0, 1, 2), append(dense, 3));
        assertEquals(1, dense.maxBatch());
        assertEquals(List.of(0, 1, 2, 3), append(dense, 1));
        IllegalStateException full = assertThrows(IllegalStateException.class, () -> dense.reserve(1));
        assertTrue(full.getMessage().contains("KV cache full"), full.getMessage());
        assertEquals(4, dense.length());
        dense.clear();
        assertEquals(0, dense.length());
        assertEquals(List.of(0), append(dense, 1));
        assertThrows(IllegalArgumentException.class, () -> KvCache.streaming(TINY, 4, 0));
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "qwen2"})
    void streamingEqualsDenseExactlyWhileTheStreamFits(String arch) throws Exception {
        Path file = dir.resolve(arch + ".gguf");
        RandomModel.write(file, arch, GgmlType.F32, 11);
        try (LoadedModel m = LoadedModel.open(file, 1)) {
            KvCache dense = KvCache.dense(m.config(), 64);
            KvCache streaming = KvCache.streaming(m.config(), 4, 28);
            Random r = new Random(3);
            for (int i = 0; i < 32; i++) {
                int token = r.nextInt(m.config().vocabSize());
                float[] d = m.transformer().forward(dense, token).clone();
                float[] s = m.transformer().forward(streaming, token);
                assertArrayEquals(d, s, "position " + i);
            }
            assertFalse(streaming.evicted());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama", "qwen2", "qwen3", "gemma3"})
    void afterEvictionEqualsRotationByCacheSlotOverSinksAndRecent(String arch) throws Exception {
        Path file = dir.resolve(arch + ".gguf");
        RandomModel rm = RandomModel.write(file, arch, GgmlType.F32, 13);
        try (LoadedModel m = LoadedModel.open(file, 2)) {
            for (int sinks : new int[] {0, 2}) {
                KvCache cache = KvCache.streaming(m.config(), sinks, 6);
                ReferenceModel ref = new ReferenceModel(rm, sinks, 6);
                Random r = new Random(5);
                int[] prompt = r.ints(15, 0, m.config().vocabSize()).toArray(); // chunks of 6, 6, 3 with eviction
                RandomModelTest.assertClose(ref.prefill(prompt), m.transformer().prefill(cache, prompt, true),
                        arch + " sinks=" + sinks + " prefill");
                for (int i = 0; i < 40; i++) {
                    int token = r.nextInt(m.config().vocabSize());
                    RandomModelTest.assertClose(ref.step(token), m.transformer().forward(cache, token),
                            arch + " sinks=" + sinks + " step " + i);
                    assertEquals(ref.length(), cache.length());
                }
                assertTrue(cache.evicted());
                assertEquals(55, cache.nextPosition());
            }
        }
    }

    @Test
    void rollbackForgetsATurnUnlessSomethingWasEvicted() {
        KvCache cache = KvCache.streaming(TINY, 2, 4);
        append(cache, 3);
        KvCache.Mark mark = cache.mark();
        append(cache, 2);
        assertTrue(cache.rollback(mark));
        assertEquals(3, cache.length());
        assertEquals(3, cache.nextPosition());
        assertEquals(List.of(0, 1, 2, 3), append(cache, 1), "appending after a rollback reuses the freed slot");
        KvCache.Mark full = cache.mark();
        append(cache, 3); // evicts: the marked tokens are gone
        assertFalse(cache.rollback(full));
        assertEquals(List.of(0, 1, 4, 5, 6, 7), append(cache, 1));
    }
}
