package io.streamingllm.core.engine;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OrderedBodyStreamTest {
    private static final class Subscription implements Flow.Subscription {
        final AtomicLong requested = new AtomicLong();
        final AtomicBoolean cancelled = new AtomicBoolean();

        @Override
        public void request(long n) {
            requested.addAndGet(n);
        }

        @Override
        public void cancel() {
            cancelled.set(true);
        }
    }

    private static List<ByteBuffer> bytes(String s) {
        return List.of(ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void bytesReceivedBeforeAFailureAreReadBeforeItIsThrown() throws Exception {
        OrderedBodyStream body = new OrderedBodyStream();
        body.onSubscribe(new Subscription());
        // a dropped connection: the last records and the failure arrive before the reader gets to them
        body.onNext(bytes("{\"a\":1}\n"));
        body.onNext(bytes("{\"b\":2}\n"));
        body.onError(new IOException("connection closed"));

        assertArrayEquals("{\"a\":1}\n{\"b\":2}\n".getBytes(StandardCharsets.UTF_8), body.readNBytes(16));
        IOException e = assertThrows(IOException.class, body::read);
        assertEquals("connection closed", e.getMessage());
    }

    @Test
    void endOfBodyAfterTheDataAndFlowControlOneListAtATime() throws Exception {
        OrderedBodyStream body = new OrderedBodyStream();
        Subscription s = new Subscription();
        body.onSubscribe(s);
        assertEquals(1, s.requested.get());
        body.onNext(bytes("ab"));
        body.onComplete();
        assertEquals('a', body.read());
        assertEquals(2, s.requested.get(), "the next list is requested once this one is taken");
        assertEquals('b', body.read());
        assertEquals(-1, body.read());
    }

    @Test
    void closeCancelsTheExchangeAndWakesABlockedReader() throws Exception {
        OrderedBodyStream body = new OrderedBodyStream();
        Subscription s = new Subscription();
        body.onSubscribe(s);
        java.util.concurrent.CompletableFuture<Object> outcome = new java.util.concurrent.CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                outcome.complete(body.read());
            } catch (IOException e) {
                outcome.complete(e);
            }
        });
        body.close();
        Object result = outcome.get(5, java.util.concurrent.TimeUnit.SECONDS);
        assertTrue(result instanceof IOException, "the blocked reader woke up with an IOException, got " + result);
        assertTrue(s.cancelled.get());
    }
}
