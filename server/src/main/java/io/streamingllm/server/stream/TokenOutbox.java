package io.streamingllm.server.stream;

import io.streamingllm.core.engine.ToolCall;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The queue between a client's producers and the one thread that writes to that client, shared by the WebSocket
 * and the HTTP streams. Producers, the engine's thread above all, only enqueue and never wait: a client that
 * falls {@code capacity} records behind is not waited for, {@link #offer} refuses and the caller ends the stream,
 * so a slow client gets its turn cancelled instead of stalling the engine (which may serve every stream from one
 * thread). The writer thread ({@link #drainTo}) takes what is queued in batches, one socket write each, and sends
 * a heartbeat or ping when nothing came for a while, so that a client that went away is noticed.
 *
 * <p>Per record: one counter increment and one enqueue on the producer, one decrement on the writer; no lock
 * beyond the queue's and no allocation beyond its node.
 *
 * <p>Thread-safe for any number of producers and one writer.
 */
public final class TokenOutbox {
    private static final Object END = new Object();
    /** Put in the queue by the {@link IdleTicker}: the writer has had nothing for its idle interval. */
    private static final Object IDLE = new Object();
    /** Records taken off the queue at once: a connection at full speed has dozens waiting. */
    static final int MAX_BATCH = 256;

    private final LinkedBlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private final AtomicInteger pending = new AtomicInteger();
    private final int capacity;
    /** The writer thread's. */
    private final List<Object> batch = new ArrayList<>(MAX_BATCH);
    private volatile boolean closed;
    private volatile boolean overflowed;
    /** When the writer last wrote or began to wait ({@link System#nanoTime}); set before the ticker watches it. */
    private volatile long lastActive;
    /** An {@link #IDLE} mark is in the queue; set by the ticker, cleared by the writer. */
    private volatile boolean idleMarked;
    /** A record {@link #awaitFirst} took, for {@link #drainTo} to start with. The writer thread's. */
    private Object head;

    /** @param capacity records queued for the client before {@link #offer} refuses */
    public TokenOutbox(int capacity) {
        this.capacity = capacity;
    }

    /**
     * Enqueues a token's record. Returns false, dropping it, when the outbox is closed or when {@code capacity}
     * records are already waiting; the latter marks the outbox {@link #overflowed} and the caller ends the stream.
     */
    public boolean offer(String record) {
        if (closed) {
            return false;
        }
        if (pending.incrementAndGet() > capacity) {
            pending.decrementAndGet();
            overflowed = true;
            return false;
        }
        queue.add(record);
        return true;
    }

    /**
     * Enqueues a record the capacity does not apply to (the end of a turn, an error, a tool call: a model makes few,
     * and dropping one would break the client's loop); dropped once closed.
     */
    public void add(Object record) {
        if (!closed) {
            pending.incrementAndGet();
            queue.add(record);
        }
    }

    /** No records after this one: {@link #drainTo} returns once it reaches it. Idempotent. */
    public void close() {
        if (!closed) {
            closed = true;
            queue.add(END);
        }
    }

    public boolean isClosed() {
        return closed;
    }

    /** Whether {@link #offer} refused a record for want of room. */
    public boolean overflowed() {
        return overflowed;
    }

    /**
     * On the writer thread, before {@link #drainTo}: waits until a record is queued, the outbox is closed, or nothing
     * came for {@code idleNanos}. True when a record came first; either way {@link #drainTo} starts with what ended
     * the wait.
     */
    public boolean awaitFirst(long idleNanos) throws InterruptedException {
        lastActive = System.nanoTime();
        IdleTicker.shared().watch(this, idleNanos);
        try {
            head = queue.take();
        } finally {
            IdleTicker.shared().unwatch(this);
        }
        return head != END && head != IDLE;
    }

    /**
     * On the writer thread: hands every record to {@code writer} in order until the outbox is closed, taking up
     * to {@value #MAX_BATCH} waiting records at once and flushing after each batch; {@link BatchWriter#idle} when
     * nothing came for {@code idleNanos}. Returns on reaching the close with the records before it appended but not
     * flushed, so that the caller's last record can join them in one write.
     */
    public void drainTo(BatchWriter writer, long idleNanos) throws IOException, InterruptedException {
        lastActive = System.nanoTime();
        IdleTicker.shared().watch(this, idleNanos);
        try {
            while (true) {
                Object first = head != null ? head : queue.take();
                head = null;
                if (first == IDLE) {
                    idleMarked = false;
                    // a record queued since the mark is news enough; the close, in particular, needs no heartbeat
                    if (queue.peek() == null) {
                        writer.idle();
                        lastActive = System.nanoTime();
                    }
                    continue;
                }
                batch.add(first);
                queue.drainTo(batch, MAX_BATCH - 1);
                for (int i = 0, n = batch.size(); i < n; i++) {
                    Object item = batch.get(i);
                    if (item == END) {
                        return;
                    }
                    if (item == IDLE) {
                        idleMarked = false;
                        continue;
                    }
                    pending.decrementAndGet();
                    if (item instanceof ToolCall call) {
                        writer.toolCall(call);
                    } else {
                        writer.append((String) item);
                    }
                }
                batch.clear();
                writer.flush();
                lastActive = System.nanoTime();
            }
        } finally {
            IdleTicker.shared().unwatch(this);
            batch.clear();
        }
    }

    /** The ticker's: marks the writer idle when {@code idleNanos} passed since it last wrote and no mark is waiting. */
    void markIdleIfDue(long now, long idleNanos) {
        if (!idleMarked && !closed && now - lastActive >= idleNanos) {
            idleMarked = true;
            queue.add(IDLE);
        }
    }
}
