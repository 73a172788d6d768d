package io.streamingllm.server.stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A mistake in the outbox tends to leave the writer waiting forever: each test fails after 10 s instead. */
@Timeout(10)
class TokenOutboxTest {
    private static final long NO_IDLE = TimeUnit.SECONDS.toNanos(30);

    /** Records what the outbox hands over: appended records, and the batches written at each flush. */
    private static final class Recorder implements BatchWriter {
        final List<String> appended = new ArrayList<>();
        final List<List<String>> written = new ArrayList<>();
        final List<String> batch = new ArrayList<>();
        int idles;

        @Override
        public void append(String record) {
            appended.add(record);
            batch.add(record);
        }

        @Override
        public void flush() {
            if (!batch.isEmpty()) {
                written.add(List.copyOf(batch));
                batch.clear();
            }
        }

        @Override
        public void idle() {
            idles++;
        }
    }

    @Test
    void handsRecordsOverInOrderAndReturnsAtTheCloseWithTheLastBatchUnflushed() throws Exception {
        TokenOutbox outbox = new TokenOutbox(10);
        assertTrue(outbox.offer("a"));
        assertTrue(outbox.offer("b"));
        outbox.add("done");
        outbox.close();
        assertFalse(outbox.offer("late"));
        assertFalse(outbox.overflowed(), "closed: dropped, not an overflow");
        outbox.add("dropped too");

        Recorder writer = new Recorder();
        outbox.drainTo(writer, NO_IDLE);
        assertEquals(List.of("a", "b", "done"), writer.appended);
        assertEquals(List.of(), writer.written, "the caller's last record joins the batch before it is written");
        assertEquals(List.of("a", "b", "done"), writer.batch);
    }

    @Test
    void whatIsQueuedGoesOutInBatchesOfAtMostMaxBatch() throws Exception {
        TokenOutbox outbox = new TokenOutbox(10_000);
        int n = 2 * TokenOutbox.MAX_BATCH + 88;
        for (int i = 0; i < n; i++) {
            assertTrue(outbox.offer("t" + i));
        }
        outbox.close();
        Recorder writer = new Recorder();
        outbox.drainTo(writer, NO_IDLE);
        assertEquals(n, writer.appended.size());
        assertEquals(List.of(TokenOutbox.MAX_BATCH, TokenOutbox.MAX_BATCH),
                writer.written.stream().map(List::size).toList());
        assertEquals(88, writer.batch.size());
        for (int i = 0; i < n; i++) {
            assertEquals("t" + i, writer.appended.get(i));
        }
    }

    @Test
    void aClientThatFallsCapacityBehindOverflowsAndTakenRecordsFreeRoom() throws Exception {
        TokenOutbox outbox = new TokenOutbox(2);
        assertTrue(outbox.offer("a"));
        assertTrue(outbox.offer("b"));
        assertFalse(outbox.offer("c"));
        assertTrue(outbox.overflowed());
        assertFalse(outbox.isClosed(), "the caller decides how the stream ends");

        TokenOutbox drained = new TokenOutbox(2);
        assertTrue(drained.offer("a"));
        assertTrue(drained.offer("b"));
        Recorder writer = new Recorder();
        // the writer's first flush closes the outbox after making room: the drained records no longer count
        drained.drainTo(new BatchWriter() {
            @Override
            public void append(String record) {
                writer.append(record);
            }

            @Override
            public void flush() {
                writer.flush();
                assertTrue(drained.offer("c"));
                assertTrue(drained.offer("d"));
                assertFalse(drained.offer("e"));
                drained.close();
            }

            @Override
            public void idle() {
            }
        }, NO_IDLE);
        assertEquals(List.of("a", "b", "c", "d"), writer.appended);
        assertTrue(drained.overflowed());
    }

    @Test
    void recordsBeyondTheCapacityRuleStillCountTowardsIt() {
        TokenOutbox outbox = new TokenOutbox(2);
        outbox.add("error");
        assertTrue(outbox.offer("a"));
        assertFalse(outbox.offer("b"));
    }

    @Test
    void idleIntervalsWithNothingQueuedReachTheWriter() throws Exception {
        TokenOutbox outbox = new TokenOutbox(10);
        Recorder recorder = new Recorder();
        outbox.drainTo(new BatchWriter() {
            @Override
            public void append(String record) {
                recorder.append(record);
            }

            @Override
            public void flush() {
                recorder.flush();
            }

            @Override
            public void idle() {
                recorder.idle();
                if (recorder.idles == 2) {
                    outbox.offer("after two idles");
                } else if (recorder.idles == 3) {
                    outbox.close();
                }
            }
        }, 1);
        assertEquals(3, recorder.idles);
        assertEquals(List.of(List.of("after two idles")), recorder.written);
    }

    /**
     * The writer waits without a deadline: on a virtual thread a timed wait costs a timer registered with (and
     * cancelled on) the carrier pool's scheduler thread every time a record comes first.
     */
    @Test
    void aWaitingWriterWaitsWithoutADeadline() throws Exception {
        TokenOutbox outbox = new TokenOutbox(10);
        Recorder writer = new Recorder();
        Thread drainer = Thread.ofVirtual().start(() -> {
            try {
                outbox.drainTo(writer, NO_IDLE);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
        assertEquals(Thread.State.WAITING, parkedState(drainer));
        outbox.offer("a");
        outbox.close();
        drainer.join();
        assertEquals(List.of("a"), writer.appended);
    }

    @Test
    void theIdleMarkComesOnceTheIntervalHasPassedNotSooner() throws Exception {
        TokenOutbox outbox = new TokenOutbox(10);
        long interval = TimeUnit.MILLISECONDS.toNanos(300);
        long start = System.nanoTime();
        long[] idleAt = new long[1];
        outbox.drainTo(new BatchWriter() {
            @Override
            public void append(String record) {
            }

            @Override
            public void flush() {
            }

            @Override
            public void idle() {
                idleAt[0] = System.nanoTime();
                outbox.close();
            }
        }, interval);
        long waited = idleAt[0] - start;
        assertTrue(waited >= interval, "idle after " + waited + " ns, before the interval of " + interval);
        assertTrue(waited < TimeUnit.SECONDS.toNanos(5), "idle only after " + waited + " ns");
    }

    /** Waits for {@code t} to park and returns how: WAITING (no deadline) or TIMED_WAITING. */
    static Thread.State parkedState(Thread t) {
        while (true) {
            Thread.State s = t.getState();
            if (s == Thread.State.WAITING || s == Thread.State.TIMED_WAITING) {
                return s;
            }
            assertTrue(t.isAlive(), "the thread ended instead of waiting");
            Thread.onSpinWait();
        }
    }

    @Test
    void producersOnOtherThreadsKeepTheirOrder() throws Exception {
        TokenOutbox outbox = new TokenOutbox(1_000_000);
        int producers = 4;
        int each = 20_000;
        List<Thread> threads = new ArrayList<>();
        for (int p = 0; p < producers; p++) {
            String prefix = p + ":";
            threads.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < each; i++) {
                    assertTrue(outbox.offer(prefix + i));
                }
            }));
        }
        Thread.ofPlatform().start(() -> {
            for (Thread t : threads) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            outbox.close();
        });
        Recorder writer = new Recorder();
        outbox.drainTo(writer, NO_IDLE);
        assertEquals(producers * each, writer.appended.size());
        int[] next = new int[producers];
        for (String record : writer.appended) {
            int colon = record.indexOf(':');
            int producer = Integer.parseInt(record.substring(0, colon));
            assertEquals(next[producer]++, Integer.parseInt(record.substring(colon + 1)), record);
        }
    }
}
