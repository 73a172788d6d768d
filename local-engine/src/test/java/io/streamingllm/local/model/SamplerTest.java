package io.streamingllm.local.model;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

class SamplerTest {
    static final float[] LOGITS = {1f, 3f, 2f, 0f, 2.5f};

    @Test
    void greedyIsArgmaxAndLowestIdOnTies() {
        assertEquals(1, Sampler.greedy().sample(LOGITS));
        assertEquals(0, Sampler.argmax(new float[] {2f, 2f, 1f}));
    }

    @Test
    void sameSeedSameTokensAndTopKOneIsGreedy() {
        Sampler a = new Sampler(1f, 0, 1f, 99), b = new Sampler(1f, 0, 1f, 99);
        for (int i = 0; i < 100; i++) {
            assertEquals(a.sample(LOGITS), b.sample(LOGITS));
        }
        Sampler k1 = new Sampler(5f, 1, 1f, 1);
        for (int i = 0; i < 50; i++) {
            assertEquals(1, k1.sample(LOGITS));
        }
    }

    @Test
    void frequenciesFollowTheTemperedDistributionWithinTopKAndTopP() {
        int n = 200_000;
        int[] counts = new int[LOGITS.length];
        Sampler s = new Sampler(1f, 0, 1f, 7);
        for (int i = 0; i < n; i++) {
            counts[s.sample(LOGITS)]++;
        }
        double[] p = Sampler.softmax(LOGITS);
        for (int i = 0; i < p.length; i++) {
            assertEquals(p[i], counts[i] / (double) n, 0.005, "token " + i);
        }
        // top-k 3 keeps ids 1, 4, 2 only; top-p 0.5 keeps the smallest prefix reaching 0.5: {1, 4} (0.39 + 0.24)
        Sampler k3 = new Sampler(1f, 3, 1f, 8), p5 = new Sampler(1f, 0, 0.5f, 9);
        boolean[] seenK = new boolean[5], seenP = new boolean[5];
        for (int i = 0; i < 5000; i++) {
            seenK[k3.sample(LOGITS)] = true;
            seenP[p5.sample(LOGITS)] = true;
        }
        assertArrayEquals(new boolean[] {false, true, true, false, true}, seenK);
        assertArrayEquals(new boolean[] {false, true, false, false, true}, seenP);
        // a low temperature sharpens: at 0.1 the argmax has softmax(logits / 0.1) = 0.993
        Sampler cold = new Sampler(0.1f, 0, 1f, 3);
        int argmax = 0;
        for (int i = 0; i < 20_000; i++) {
            argmax += cold.sample(LOGITS) == 1 ? 1 : 0;
        }
        float[] sharp = new float[LOGITS.length];
        for (int i = 0; i < sharp.length; i++) {
            sharp[i] = LOGITS[i] / 0.1f;
        }
        assertEquals(Sampler.softmax(sharp)[1], argmax / 20_000.0, 0.003);
    }

    @Test
    void rejectsNonsense() {
        assertThrows(IllegalArgumentException.class, () -> new Sampler(-1f, 0, 1f, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(Float.NaN, 0, 1f, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(1f, -1, 1f, 0));
        assertThrows(IllegalArgumentException.class, () -> new Sampler(1f, 0, 0f, 0));
    }
}
