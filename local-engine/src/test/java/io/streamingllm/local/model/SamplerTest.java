package io.streamingllm.local.model;

import static org.junit.jupiter.api.Assertions.*;

import com.sun.management.ThreadMXBean;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.IntStream;
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

    /** Logits spread like a model's: a few likely tokens over a long tail. */
    private static float[] randomLogits(Random r, int n) {
        float[] l = new float[n];
        for (int i = 0; i < n; i++) {
            l[i] = (float) (r.nextGaussian() * 3);
        }
        return l;
    }

    /** Token ids by logit, best first, lower id first on ties. */
    private static int[] ranking(float[] logits) {
        return IntStream.range(0, logits.length).boxed()
                .sorted((a, b) -> Float.compare(logits[b], logits[a])).mapToInt(Integer::intValue).toArray();
    }

    @Test
    void drawsTheSameTokensAsTheSortingSamplerForAFixedSeedWithATopKOrTopPCut() {
        // the engine's defaults, the evaluation's nucleus without top-k, and other cuts
        float[][] settings = {{0.8f, 40, 0.9f}, {1f, 0, 0.9f}, {0.5f, 3, 1f}, {1.5f, 200, 0.5f}, {1f, 0, 0.99f}, {2f, 0, 0.3f}};
        Random r = new Random(11);
        for (float[] s : settings) {
            Sampler ours = new Sampler(s[0], (int) s[1], s[2], 5);
            SortingSampler reference = new SortingSampler(s[0], (int) s[1], s[2], 5);
            for (int i = 0; i < 1000; i++) {
                float[] logits = randomLogits(r, 2000);
                assertEquals(reference.sample(logits), ours.sample(logits), "draw " + i + " at " + Arrays.toString(s));
            }
        }
    }

    @Test
    void tiesRankTheLowerIdFirst() {
        float[] tied = {1f, 3f, 3f, 0f, 3f};
        Sampler k1 = new Sampler(1f, 1, 1f, 2), k2 = new Sampler(1f, 2, 1f, 2);
        boolean[] seen = new boolean[tied.length];
        for (int i = 0; i < 2000; i++) {
            assertEquals(1, k1.sample(tied));
            seen[k2.sample(tied)] = true;
        }
        assertArrayEquals(new boolean[] {false, true, true, false, false}, seen);
    }

    @Test
    void topKDrawsOnlyTheKBestAndEachOfThem() {
        float[] logits = randomLogits(new Random(3), 5000);
        boolean[] best = new boolean[logits.length];
        for (int t : Arrays.copyOf(ranking(logits), 10)) {
            best[t] = true;
        }
        Sampler s = new Sampler(3f, 10, 1f, 4); // hot, so that all ten are drawn
        boolean[] seen = new boolean[logits.length];
        for (int i = 0; i < 20_000; i++) {
            seen[s.sample(logits)] = true;
        }
        for (int t = 0; t < logits.length; t++) {
            assertEquals(best[t], seen[t], "token " + t);
        }
    }

    @Test
    void topPDrawsTheSmallestSetReachingTheMassInProportion() {
        float[] logits = randomLogits(new Random(6), 600);
        for (int i = 0; i < logits.length; i++) {
            logits[i] /= 2; // flatter, so that the nucleus holds dozens of tokens
        }
        double[] p = Sampler.softmax(logits);
        int[] order = ranking(logits);
        int size = 0;
        double mass = 0;
        while (mass < 0.6) {
            mass += p[order[size++]];
        }
        assertTrue(size > 20, "nucleus of " + size);
        int n = 100_000;
        int[] counts = new int[logits.length];
        Sampler s = new Sampler(1f, 0, 0.6f, 8);
        for (int i = 0; i < n; i++) {
            counts[s.sample(logits)]++;
        }
        for (int r = 0; r < logits.length; r++) {
            int t = order[r];
            if (r < size) {
                assertEquals(p[t] / mass, counts[t] / (double) n, 0.004, "nucleus token " + t + " at rank " + r);
            } else {
                assertEquals(0, counts[t], "token " + t + " outside the nucleus, at rank " + r);
            }
        }
    }

    @Test
    void aHigherTemperatureFlattensTheDistribution() {
        int n = 200_000;
        for (float temperature : new float[] {0.5f, 2f}) {
            int[] counts = new int[LOGITS.length];
            Sampler s = new Sampler(temperature, 0, 1f, 12);
            for (int i = 0; i < n; i++) {
                counts[s.sample(LOGITS)]++;
            }
            float[] scaled = new float[LOGITS.length];
            for (int i = 0; i < scaled.length; i++) {
                scaled[i] = LOGITS[i] / temperature;
            }
            double[] p = Sampler.softmax(scaled);
            for (int i = 0; i < p.length; i++) {
                assertEquals(p[i], counts[i] / (double) n, 0.005, "token " + i + " at temperature " + temperature);
            }
        }
    }

    @Test
    void aSeedFixesTheDrawsAndAnotherSeedChangesThem() {
        float[] logits = randomLogits(new Random(9), 1000);
        for (float[] s : new float[][] {{0.8f, 40, 0.9f}, {1f, 0, 0.9f}, {1f, 0, 1f}}) {
            int[] a = draws(new Sampler(s[0], (int) s[1], s[2], 77), logits);
            assertArrayEquals(a, draws(new Sampler(s[0], (int) s[1], s[2], 77), logits), Arrays.toString(s));
            assertFalse(Arrays.equals(a, draws(new Sampler(s[0], (int) s[1], s[2], 78), logits)), Arrays.toString(s));
        }
    }

    private static int[] draws(Sampler s, float[] logits) {
        int[] out = new int[200];
        for (int i = 0; i < out.length; i++) {
            out[i] = s.sample(logits);
        }
        return out;
    }

    @Test
    void samplingATokenAllocatesNothing() {
        ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled(),
                "this test needs a JVM that counts allocated bytes per thread (HotSpot does)");
        float[] logits = randomLogits(new Random(1), 32_000);
        for (float[] s : new float[][] {{0.8f, 40, 0.9f}, {1f, 0, 0.9f}, {1f, 0, 1f}, {0f, 0, 1f}}) {
            Sampler sampler = new Sampler(s[0], (int) s[1], s[2], 3);
            int drawn = 0;
            for (int i = 0; i < 200; i++) { // sizes the buffers and lets the JIT compile
                drawn += sampler.sample(logits);
            }
            long before = threads.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 2000; i++) {
                drawn += sampler.sample(logits);
            }
            long allocated = threads.getCurrentThreadAllocatedBytes() - before;
            assertTrue(allocated < 1024, allocated + " bytes allocated over 2000 tokens at " + Arrays.toString(s));
            assertTrue(drawn >= 0);
        }
    }
}
