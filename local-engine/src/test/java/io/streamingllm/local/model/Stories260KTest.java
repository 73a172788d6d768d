package io.streamingllm.local.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.streamingllm.local.SharedModels;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The llama2.c stories260K model against the llama.cpp reference in models/README.md. */
class Stories260KTest {
    static final int[] PROMPT = {1, 403, 407, 261, 378};
    static final int[] REFERENCE = Arrays.stream(("432 383 286 261 376 298 315 421 395 317 426 338 401 396 267 337 410 408 "
            + "419 292 411 322 265 282 295 433 426 385 328 432 358 394 261 370 432 352 266 268 388 426 338 391 266 267 "
            + "337 335 312 432 398 312 286 267 414 270 333 415 426 13 438 310 439 419 357 336").split(" "))
            .mapToInt(Integer::parseInt).toArray();

    @Test
    void greedyContinuationMatchesLlamaCpp() throws Exception {
        for (int threads : new int[] {1, 2}) {
            try (LoadedModel m = LoadedModel.open(SharedModels.stories260K(), threads)) {
                Transformer t = m.transformer();
                KvCache cache = KvCache.dense(m.config(), 512);
                float[] logits = t.prefill(cache, PROMPT, true);
                int[] out = new int[64];
                for (int i = 0; i < 64; i++) {
                    out[i] = Sampler.argmax(logits);
                    logits = t.forward(cache, out[i]);
                }
                assertArrayEquals(REFERENCE, out, "threads=" + threads);
            }
        }
    }

    @Test
    void firstPositionProbabilitiesMatchTheReference() throws Exception {
        try (LoadedModel m = LoadedModel.open(SharedModels.stories260K(), 1)) {
            KvCache cache = KvCache.dense(m.config(), 512);
            double[] p = Sampler.softmax(m.transformer().forward(cache, 1));
            assertEquals(0.7837, p[403], 1e-3);
            assertEquals(0.1555, p[385], 1e-3);
            assertEquals(0.0156, p[410], 1e-3);
            m.transformer().forward(cache, 403);
            m.transformer().forward(cache, 407);
            double[] p3 = Sampler.softmax(m.transformer().forward(cache, 261));
            assertEquals(0.9993, p3[378], 1e-3);
        }
    }
}
