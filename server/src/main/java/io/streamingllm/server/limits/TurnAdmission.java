package io.streamingllm.server.limits;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Turns in flight per client address ({@code STREAMING_LLM_MAX_TURNS_PER_CLIENT}), over HTTP and WebSockets
 * together: one client cannot start hundreds of upstream generations at once. Thread-safe.
 */
public final class TurnAdmission {
    /** Seconds a refused client is told to wait ({@code Retry-After}): a turn slot frees when any turn ends. */
    public static final int RETRY_AFTER_SECONDS = 1;

    private final int maxPerClient;
    private final ConcurrentHashMap<InetAddress, AtomicInteger> inFlight = new ConcurrentHashMap<>();

    public TurnAdmission(int maxPerClient) {
        this.maxPerClient = maxPerClient;
    }

    /** A slot for one turn from {@code client}, or empty when it has {@code maxPerClient} under way. */
    public Optional<Slot> tryAcquire(SocketAddress client) {
        InetAddress address = client instanceof InetSocketAddress inet ? inet.getAddress() : null;
        if (address == null) {
            return Optional.of(() -> { });
        }
        boolean[] admitted = new boolean[1];
        inFlight.compute(address, (a, count) -> {
            AtomicInteger c = count == null ? new AtomicInteger() : count;
            admitted[0] = c.get() < maxPerClient;
            if (admitted[0]) {
                c.incrementAndGet();
            }
            return c;
        });
        if (!admitted[0]) {
            return Optional.empty();
        }
        return Optional.of(new Once(() -> inFlight.computeIfPresent(address,
                (a, count) -> count.decrementAndGet() <= 0 ? null : count)));
    }

    public String refusal() {
        return "this client has " + maxPerClient + " turns in flight (STREAMING_LLM_MAX_TURNS_PER_CLIENT): "
                + "wait for one to finish";
    }

    /** A turn's claim on its client's allowance; closing it twice frees it once. */
    @FunctionalInterface
    public interface Slot extends AutoCloseable {
        @Override
        void close();
    }

    private static final class Once implements Slot {
        private final Runnable release;
        private final AtomicInteger closed = new AtomicInteger();

        Once(Runnable release) {
            this.release = release;
        }

        @Override
        public void close() {
            if (closed.getAndIncrement() == 0) {
                release.run();
            }
        }
    }
}
