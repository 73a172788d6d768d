package io.streamingllm.core.engine.http;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * A response body read as newline-delimited records, handed to a {@link Lines} handler on the thread that
 * delivers the bytes, as they arrive: no queue and no reader thread in between. Signals are handled in the
 * order they arrive, so every line received before a failure (a dropped connection) reaches the handler
 * before the failure does; a last line without a newline counts when the body ends. A trailing {@code \r}
 * is stripped; empty lines are skipped. One list of buffers is requested at a time, after the previous one
 * was handled. A line longer than {@code maxLineBytes} stops the body as a failure ({@link LineTooLong}): an
 * upstream that never sends a newline costs at most that much memory.
 */
public final class NdjsonBody implements HttpResponse.BodySubscriber<Void> {
    /** Receives the body's lines in order, then exactly one of {@link #end()} or {@link #failed}. */
    public interface Lines {
        /**
         * One line, without its line break, in {@code bytes[offset, offset + length)}; the array is reused
         * after the call.
         *
         * @return false to stop: no further line or signal is delivered and no more data is requested
         */
        boolean line(byte[] bytes, int offset, int length);

        /** The body ended normally. */
        void end();

        /** The body failed (connection dropped, exchange aborted) after the lines before it were delivered. */
        void failed(Throwable cause);
    }

    /** The default longest line: far above any token record, above a final record's context array too. */
    public static final int DEFAULT_MAX_LINE_BYTES = 4 << 20;

    /** Eight bytes of a line read as one long, to look for the newline a word at a time. */
    private static final VarHandle WORDS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long NEWLINES = 0x0a0a0a0a0a0a0a0aL;
    private static final long LOW_BITS = 0x0101010101010101L;
    private static final long HIGH_BITS = 0x8080808080808080L;

    private final Lines lines;
    private final int maxLineBytes;
    private final CompletableFuture<Void> body = new CompletableFuture<>();
    private volatile Flow.Subscription subscription;
    private volatile boolean cancelled;
    private boolean stopped;
    private byte[] line = new byte[512];
    private int lineLength;

    public NdjsonBody(Lines lines) {
        this(lines, DEFAULT_MAX_LINE_BYTES);
    }

    public NdjsonBody(Lines lines, int maxLineBytes) {
        this.lines = lines;
        this.maxLineBytes = maxLineBytes;
    }

    /** A line of the body is longer than the limit; the body was stopped there. */
    public static final class LineTooLong extends RuntimeException {
        private final int maxLineBytes;

        LineTooLong(int maxLineBytes) {
            super("a line longer than " + maxLineBytes + " bytes", null, false, false);
            this.maxLineBytes = maxLineBytes;
        }

        public int maxLineBytes() {
            return maxLineBytes;
        }
    }

    @Override
    public CompletionStage<Void> getBody() {
        return body;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        if (cancelled) {
            s.cancel();
        } else {
            s.request(1);
        }
    }

    @Override
    public void onNext(List<ByteBuffer> buffers) {
        if (stopped || cancelled) {
            return;
        }
        for (ByteBuffer b : buffers) {
            if (!split(b)) {
                stopped = true;
                return;
            }
        }
        subscription.request(1);
    }

    @Override
    public void onError(Throwable t) {
        body.complete(null);
        if (!stopped && !cancelled) {
            stopped = true;
            lines.failed(t);
        }
    }

    @Override
    public void onComplete() {
        body.complete(null);
        if (stopped || cancelled) {
            return;
        }
        stopped = true;
        if (lineLength > 0 && !deliver(line, 0, lineLength)) {
            return;
        }
        lines.end();
    }

    /** Stops the body: the subscription is cancelled (the HTTP exchange is aborted), nothing more is delivered. */
    public void cancel() {
        cancelled = true;
        Flow.Subscription s = subscription;
        if (s != null) {
            s.cancel();
        }
    }

    private boolean split(ByteBuffer b) {
        if (b.hasArray()) {
            byte[] a = b.array();
            int from = b.arrayOffset() + b.position();
            int to = b.arrayOffset() + b.limit();
            b.position(b.limit());
            return split(a, from, to);
        }
        byte[] copy = new byte[b.remaining()];
        b.get(copy);
        return split(copy, 0, copy.length);
    }

    private boolean split(byte[] a, int from, int to) {
        int start = from;
        for (int i; (i = newline(a, start, to)) >= 0; ) {
            if (lineLength + i - start > maxLineBytes) {
                return overflow();
            }
            boolean more;
            if (lineLength == 0) {
                more = deliver(a, start, i - start); // the whole line is in this buffer: no copy
            } else {
                append(a, start, i - start);
                more = deliver(line, 0, lineLength);
            }
            start = i + 1;
            if (!more) {
                return false;
            }
        }
        if (lineLength + to - start > maxLineBytes) {
            return overflow();
        }
        append(a, start, to - start);
        return true;
    }

    /**
     * The index of the first {@code \n} in {@code a[from, to)}, -1 when there is none; eight bytes at a time (an
     * OpenAI event is 200 bytes and more, so the scan was a good part of reading one): a byte equal to the newline
     * is a zero byte after the XOR, and the lowest byte flagged by the zero-byte test is always a true one.
     */
    static int newline(byte[] a, int from, int to) {
        int i = from;
        for (; i + Long.BYTES <= to; i += Long.BYTES) {
            long w = (long) WORDS.get(a, i) ^ NEWLINES;
            long zeros = (w - LOW_BITS) & ~w & HIGH_BITS;
            if (zeros != 0) {
                return i + (Long.numberOfTrailingZeros(zeros) >>> 3);
            }
        }
        for (; i < to; i++) {
            if (a[i] == '\n') {
                return i;
            }
        }
        return -1;
    }

    /** Stops the body at a line over the limit: the exchange is aborted, the handler told once. */
    private boolean overflow() {
        stopped = true;
        line = new byte[0];
        lineLength = 0;
        Flow.Subscription s = subscription;
        if (s != null) {
            s.cancel();
        }
        body.complete(null);
        lines.failed(new LineTooLong(maxLineBytes));
        return false;
    }

    private void append(byte[] a, int from, int length) {
        if (length == 0) {
            return;
        }
        if (lineLength + length > line.length) {
            line = Arrays.copyOf(line, Math.max(line.length * 2, lineLength + length));
        }
        System.arraycopy(a, from, line, lineLength, length);
        lineLength += length;
    }

    private boolean deliver(byte[] bytes, int offset, int length) {
        lineLength = 0;
        if (cancelled) {
            return false;
        }
        if (length > 0 && bytes[offset + length - 1] == '\r') {
            length--;
        }
        return length == 0 || lines.line(bytes, offset, length) && !cancelled;
    }
}
