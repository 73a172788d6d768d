package io.streamingllm.local.tensor;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The calling thread plus {@code threads - 1} helper threads splitting one row range at a time into even
 * chunks that each thread claims from a shared counter (a thread that is descheduled on a busy machine
 * simply claims fewer). Decoding one token runs some sixty such ranges of 50-500 µs each: a fork/join pool
 * parked and woke its workers for every one, which cost more than the second core gave. Helpers here spin
 * for {@link #SPIN_NANOS} after a range before parking, so back-to-back ranges reach them without a wake-up,
 * and an idle engine still parks them.
 *
 * <p>One range at a time: a caller that finds the team busy (another thread's range, or a range started
 * from inside a body) runs its range alone on its own thread.
 */
final class RowTeam implements AutoCloseable {
    /** How long an idle helper spins for the next range before parking; the gap between a token's products is far shorter. */
    static final long SPIN_NANOS = 200_000;

    private final Thread[] helpers;
    private final AtomicBoolean busy = new AtomicBoolean(); // not reentrant: a range inside a body runs alone
    private final boolean[] parked; // each helper's "about to park or parked", under its own lock
    private volatile Job current; // the latest range; a helper works on it once
    private volatile boolean closed;

    /** One range: its chunks are claimed from its own counter, so a late helper never takes a newer range's chunk. */
    private static final class Job {
        final MatMul.RowRange body;
        final int rows;
        final int chunks;
        final Thread caller;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger left;
        volatile boolean callerParked;
        volatile Throwable failure;

        Job(MatMul.RowRange body, int rows, int chunks, Thread caller) {
            this.body = body;
            this.rows = rows;
            this.chunks = chunks;
            this.caller = caller;
            this.left = new AtomicInteger(chunks);
        }

        /** Claims and runs chunks until none are left. */
        void work() {
            for (int c = next.getAndIncrement(); c < chunks; c = next.getAndIncrement()) {
                try {
                    if (failure == null) {
                        body.run(bound(c), bound(c + 1));
                    }
                } catch (Throwable t) {
                    failure = t;
                } finally {
                    if (left.decrementAndGet() == 0 && callerParked) {
                        LockSupport.unpark(caller);
                    }
                }
            }
        }

        /** Start of chunk {@code c}: even (the integer kernels take rows in pairs), except the end. */
        private int bound(int c) {
            return c == chunks ? rows : (int) ((long) rows * c / chunks) & ~1;
        }

        void await() {
            long start = System.nanoTime();
            while (left.get() > 0) {
                if (System.nanoTime() - start < SPIN_NANOS) {
                    Thread.onSpinWait();
                    continue;
                }
                callerParked = true;
                if (left.get() > 0) {
                    LockSupport.park(this);
                }
                callerParked = false;
            }
        }
    }

    RowTeam(int threads, String name) {
        helpers = new Thread[threads - 1];
        parked = new boolean[helpers.length];
        for (int i = 0; i < helpers.length; i++) {
            int index = i;
            helpers[i] = Thread.ofPlatform().daemon().name(name + "-" + (i + 1)).unstarted(() -> helperLoop(index));
            helpers[i].start();
        }
    }

    int threads() {
        return helpers.length + 1;
    }

    /** Runs {@code body} over {@code chunks} even-bounded chunks of {@code [0, rows)}, on this thread and the helpers. */
    void run(int rows, int chunks, MatMul.RowRange body) {
        if (!busy.compareAndSet(false, true)) {
            body.run(0, rows);
            return;
        }
        Job job = new Job(body, rows, chunks, Thread.currentThread());
        try {
            current = job;
            for (int i = 0; i < helpers.length; i++) {
                if (parkedFlag(i)) {
                    LockSupport.unpark(helpers[i]);
                }
            }
            job.work();
            job.await();
        } finally {
            busy.set(false);
        }
        Throwable f = job.failure;
        if (f instanceof RuntimeException e) {
            throw e;
        }
        if (f instanceof Error e) {
            throw e;
        }
        if (f != null) {
            throw new IllegalStateException(f);
        }
    }

    private void helperLoop(int index) {
        Job seen = null; // not current: a range published before this thread started is still to be worked on
        while (!closed) {
            long start = System.nanoTime();
            while (current == seen && !closed) {
                if (System.nanoTime() - start < SPIN_NANOS) {
                    Thread.onSpinWait();
                    continue;
                }
                setParked(index, true);
                if (current == seen && !closed) {
                    LockSupport.park(this);
                }
                setParked(index, false);
            }
            seen = current;
            if (seen != null && !closed) {
                seen.work();
            }
        }
    }

    private void setParked(int index, boolean value) {
        synchronized (parked) {
            parked[index] = value;
        }
    }

    private boolean parkedFlag(int index) {
        synchronized (parked) {
            return parked[index];
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread h : helpers) {
            LockSupport.unpark(h);
        }
    }
}
