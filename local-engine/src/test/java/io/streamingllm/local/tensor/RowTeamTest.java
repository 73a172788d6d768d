package io.streamingllm.local.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** The caller-plus-helpers team that runs a matrix product's row ranges. */
class RowTeamTest {
    @Test
    void everyRowRunsExactlyOnceInEvenBoundedChunks() {
        try (RowTeam team = new RowTeam(3, "test-team")) {
            for (int rows : new int[] {4, 7, 64, 1001, 32000}) {
                for (int round = 0; round < 50; round++) {
                    AtomicIntegerArray seen = new AtomicIntegerArray(rows);
                    int chunks = Math.min(rows / 2, 12);
                    team.run(rows, chunks, (from, to) -> {
                        assertTrue(from % 2 == 0, "chunk start " + from + " is odd");
                        for (int r = from; r < to; r++) {
                            seen.incrementAndGet(r);
                        }
                    });
                    for (int r = 0; r < rows; r++) {
                        assertEquals(1, seen.get(r), "row " + r + " of " + rows + ", round " + round);
                    }
                }
            }
        }
    }

    @Test
    void helpersTakeChunksAndAFailureReachesTheCallerWithTheTeamStillUsable() throws Exception {
        try (RowTeam team = new RowTeam(2, "test-team")) {
            // a chunk that waits until another chunk ran on another thread: only a working helper lets it finish
            CountDownLatch otherThread = new CountDownLatch(1);
            Thread caller = Thread.currentThread();
            team.run(4, 2, (from, to) -> {
                if (Thread.currentThread() != caller) {
                    otherThread.countDown();
                } else {
                    try {
                        assertTrue(otherThread.await(30, java.util.concurrent.TimeUnit.SECONDS), "no helper took a chunk");
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                }
            });
            IllegalArgumentException boom = new IllegalArgumentException("boom");
            assertSame(boom, assertThrows(IllegalArgumentException.class, () -> team.run(100, 10, (from, to) -> {
                if (from == 0) {
                    throw boom;
                }
            })));
            AtomicIntegerArray seen = new AtomicIntegerArray(100);
            team.run(100, 10, (from, to) -> {
                for (int r = from; r < to; r++) {
                    seen.incrementAndGet(r);
                }
            });
            for (int r = 0; r < 100; r++) {
                assertEquals(1, seen.get(r));
            }
        }
    }

    @Test
    void aRangeStartedInsideABodyOrWhileTheTeamIsBusyRunsOnItsCallersThread() throws Exception {
        try (RowTeam team = new RowTeam(2, "test-team"); ExecutorService others = Executors.newFixedThreadPool(2)) {
            AtomicIntegerArray inner = new AtomicIntegerArray(8 * 10);
            team.run(8, 4, (from, to) -> {
                for (int r = from; r < to; r++) {
                    int outer = r;
                    Thread self = Thread.currentThread();
                    team.run(10, 5, (a, b) -> {
                        assertSame(self, Thread.currentThread());
                        assertEquals(0, a);
                        assertEquals(10, b);
                        for (int i = a; i < b; i++) {
                            inner.incrementAndGet(outer * 10 + i);
                        }
                    });
                }
            });
            for (int i = 0; i < inner.length(); i++) {
                assertEquals(1, inner.get(i));
            }
            // two callers at once: each range complete, whichever of them got the team
            Future<?>[] f = new Future<?>[2];
            AtomicIntegerArray[] seen = {new AtomicIntegerArray(5000), new AtomicIntegerArray(5000)};
            for (int c = 0; c < 2; c++) {
                AtomicIntegerArray s = seen[c];
                f[c] = others.submit(() -> {
                    for (int round = 0; round < 200; round++) {
                        team.run(5000, 8, (from, to) -> {
                            for (int r = from; r < to; r++) {
                                s.incrementAndGet(r);
                            }
                        });
                    }
                });
            }
            for (Future<?> x : f) {
                x.get();
            }
            for (AtomicIntegerArray s : seen) {
                for (int r = 0; r < 5000; r++) {
                    assertEquals(200, s.get(r));
                }
            }
        }
    }
}
