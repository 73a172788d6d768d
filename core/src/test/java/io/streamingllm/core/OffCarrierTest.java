package io.streamingllm.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OffCarrierTest {

    /**
     * Opening a FIFO for writing blocks in open(2) until a reader opens it: the stand-in for a file creation waiting
     * on the file system. More virtual threads than the scheduler has carriers wait in such opens; had any of them
     * kept its carrier, some would never get to start and nothing else would run.
     */
    @Test
    void virtualThreadsWaitingInOpenLeaveTheirCarriersFree(@TempDir Path dir) throws Exception {
        Path fifo = dir.resolve("fifo");
        Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
        assertEquals(0, mkfifo.waitFor(), "mkfifo");
        int blockers = 2 * Runtime.getRuntime().availableProcessors() + 2; // the default parallelism is the processors
        CountDownLatch started = new CountDownLatch(blockers);
        ConcurrentLinkedQueue<FileChannel> opened = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        Thread[] threads = new Thread[blockers];
        for (int i = 0; i < blockers; i++) {
            threads[i] = Thread.ofVirtual().start(() -> {
                started.countDown();
                try {
                    opened.add(OffCarrier.call(() -> FileChannel.open(fifo, StandardOpenOption.WRITE), OffCarrierTest::close));
                } catch (IOException | RuntimeException e) {
                    failures.add(e);
                }
            });
        }
        try {
            assertTrue(started.await(30, TimeUnit.SECONDS), "every opener got a carrier to start on");
            CountDownLatch ran = new CountDownLatch(1);
            Thread.ofVirtual().start(ran::countDown);
            assertTrue(ran.await(30, TimeUnit.SECONDS), "another virtual thread ran while the openers waited");
        } finally {
            try (FileChannel reader = FileChannel.open(fifo, StandardOpenOption.READ)) { // lets every open return
                for (Thread t : threads) {
                    t.join();
                }
            }
            opened.forEach(OffCarrierTest::close);
        }
        assertEquals(List.of(), List.copyOf(failures));
        assertEquals(blockers, opened.size());
    }

    @Test
    void aPlatformThreadMakesTheCallItselfAVirtualOneHandsItOver() throws Exception {
        assertSame(Thread.currentThread(), OffCarrier.call(Thread::currentThread, t -> { }));
        AtomicReference<Thread> caller = new AtomicReference<>();
        AtomicReference<Thread> runner = new AtomicReference<>();
        Thread.ofVirtual().start(() -> {
            caller.set(Thread.currentThread());
            try {
                runner.set(OffCarrier.call(Thread::currentThread, t -> { }));
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        }).join();
        assertNotEquals(caller.get(), runner.get());
        assertTrue(!runner.get().isVirtual(), "the call ran on a platform thread");
    }

    @Test
    void theCallsExceptionsReachTheCallerAsThrown(@TempDir Path dir) throws Exception {
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        Thread.ofVirtual().start(() -> {
            try {
                OffCarrier.call(() -> FileChannel.open(dir.resolve("missing"), StandardOpenOption.READ), OffCarrierTest::close);
            } catch (Throwable t) {
                thrown.set(t);
            }
        }).join();
        assertTrue(thrown.get() instanceof NoSuchFileException, String.valueOf(thrown.get()));
        IllegalStateException boom = new IllegalStateException("boom");
        Thread.ofVirtual().start(() -> {
            try {
                OffCarrier.call(() -> {
                    throw boom;
                }, x -> { });
            } catch (Throwable t) {
                thrown.set(t);
            }
        }).join();
        assertSame(boom, thrown.get());
        assertThrows(NoSuchFileException.class,
                () -> OffCarrier.call(() -> FileChannel.open(dir.resolve("missing"), StandardOpenOption.READ), OffCarrierTest::close));
    }

    private static void close(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // a test's cleanup
        }
    }
}
