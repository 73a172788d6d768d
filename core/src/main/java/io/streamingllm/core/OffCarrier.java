package io.streamingllm.core;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Runs a file system call that may block from a virtual thread on a platform thread, the virtual thread parked
 * meanwhile. The JDK lets a virtual thread in {@code open(2)}, {@code rename(2)} and their kin keep its carrier
 * (unlike reads and writes of sockets), and such a call can take a millisecond or more: creating a file on ext4
 * without a journal scans the inodes freed in the last seconds (see {@code log.SpareFiles}), a directory's creators
 * queue on its lock. Measured on a 2-core machine: the first appends of 200 new conversations in one burst held both
 * carriers in {@code open(2)} for about 100 ms, and no first token could be relayed until they were done. A
 * platform thread blocked in the call holds nothing else. On a platform thread the call runs where it is.
 * Thread-safe.
 */
public final class OffCarrier {
    /** Enough for the calls of a burst to wait for the file system side by side, not in a queue behind each other. */
    private static final int THREADS = 64;
    private static final ThreadPoolExecutor POOL = pool();

    /** A blocking file system call. */
    @FunctionalInterface
    public interface IoCall<T> {
        T call() throws IOException;
    }

    private OffCarrier() {
    }

    /**
     * The call's result; its {@link IOException} or unchecked exception is rethrown as it was. If the waiting virtual
     * thread is interrupted, the call still completes, {@code cleanup} receives what it returned (to close an opened
     * channel, say), and an {@link InterruptedIOException} is thrown.
     */
    public static <T> T call(IoCall<T> call, Consumer<? super T> cleanup) throws IOException {
        if (!Thread.currentThread().isVirtual()) {
            return call.call();
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        POOL.execute(() -> {
            try {
                result.complete(call.call());
            } catch (Throwable t) {
                result.completeExceptionally(t);
            }
        });
        try {
            return result.get();
        } catch (InterruptedException e) {
            result.thenAccept(cleanup);
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for a file system call");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new UncheckedIOException(new IOException(cause));
        }
    }

    /** As {@link #call(IoCall, Consumer)} for a call that returns nothing to clean up. */
    public static void run(IoCall<Void> call) throws IOException {
        call(call, ignored -> { });
    }

    private static ThreadPoolExecutor pool() {
        ThreadPoolExecutor pool = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), r -> Thread.ofPlatform().daemon().name("file-call").unstarted(r));
        pool.allowCoreThreadTimeOut(true);
        return pool;
    }
}
