package io.streamingllm.core.engine.http;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NdjsonBodyTest {
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

    /** Records what the body hands over, in order: each line, then "end" or "failed: message". */
    private static final class Recorder implements NdjsonBody.Lines {
        final List<String> seen = new ArrayList<>();
        int acceptLines = Integer.MAX_VALUE;

        @Override
        public boolean line(byte[] bytes, int offset, int length) {
            seen.add(new String(bytes, offset, length, StandardCharsets.UTF_8));
            return seen.size() < acceptLines;
        }

        @Override
        public void end() {
            seen.add("end");
        }

        @Override
        public void failed(Throwable cause) {
            seen.add("failed: " + cause.getMessage());
        }
    }

    private static List<ByteBuffer> bytes(String... parts) {
        List<ByteBuffer> list = new ArrayList<>();
        for (String p : parts) {
            list.add(ByteBuffer.wrap(p.getBytes(StandardCharsets.UTF_8)));
        }
        return list;
    }

    @Test
    void linesReceivedBeforeAFailureAreDeliveredBeforeIt() {
        Recorder lines = new Recorder();
        NdjsonBody body = new NdjsonBody(lines);
        body.onSubscribe(new Subscription());
        // a dropped connection: the last records and then the failure
        body.onNext(bytes("{\"a\":1}\n"));
        body.onNext(bytes("{\"b\":2}\n{\"c\""));
        body.onError(new IOException("connection closed"));

        assertEquals(List.of("{\"a\":1}", "{\"b\":2}", "failed: connection closed"), lines.seen,
                "a partial line is not a record; the failure comes after every whole line");
    }

    @Test
    void linesSplitAcrossBuffersAreJoinedAndCrLfAndEmptyLinesHandled() {
        Recorder lines = new Recorder();
        NdjsonBody body = new NdjsonBody(lines);
        body.onSubscribe(new Subscription());
        body.onNext(bytes("{\"a\":", "\"x\"}\r", "\n\n{\"b\":\"é"));
        body.onNext(bytes("\"}\n"));
        body.onComplete();

        assertEquals(List.of("{\"a\":\"x\"}", "{\"b\":\"é\"}", "end"), lines.seen);
    }

    @Test
    void aLastLineWithoutANewlineCountsWhenTheBodyEnds() {
        Recorder lines = new Recorder();
        NdjsonBody body = new NdjsonBody(lines);
        body.onSubscribe(new Subscription());
        body.onNext(bytes("{\"a\":1}\n{\"done\":true}"));
        body.onComplete();

        assertEquals(List.of("{\"a\":1}", "{\"done\":true}", "end"), lines.seen);
    }

    @Test
    void oneListAtATimeIsRequestedAfterTheLinesInItWereHandled() {
        Subscription s = new Subscription();
        Recorder lines = new Recorder();
        NdjsonBody body = new NdjsonBody(lines);
        body.onSubscribe(s);
        assertEquals(1, s.requested.get());
        body.onNext(bytes("{\"a\":1}\n"));
        assertEquals(2, s.requested.get());
        body.onNext(bytes("{\"b\":2}\n"));
        assertEquals(3, s.requested.get());
    }

    @Test
    void aHandlerThatStopsGetsNothingMoreAndNoMoreIsRequested() {
        Subscription s = new Subscription();
        Recorder lines = new Recorder();
        lines.acceptLines = 1;
        NdjsonBody body = new NdjsonBody(lines);
        body.onSubscribe(s);
        body.onNext(bytes("{\"a\":1}\n{\"b\":2}\n"));
        body.onNext(bytes("{\"c\":3}\n"));
        body.onError(new IOException("aborted"));

        assertEquals(List.of("{\"a\":1}"), lines.seen);
        assertEquals(1, s.requested.get());
    }

    @Test
    void cancelCancelsTheSubscriptionAndStopsDelivery() {
        Subscription s = new Subscription();
        Recorder lines = new Recorder();
        NdjsonBody body = new NdjsonBody(lines);
        body.onSubscribe(s);
        body.cancel();
        body.onNext(bytes("{\"a\":1}\n"));

        assertTrue(s.cancelled.get());
        assertEquals(List.of(), lines.seen);
    }

    @Test
    void cancelBeforeSubscribingCancelsOnSubscribe() {
        Subscription s = new Subscription();
        NdjsonBody body = new NdjsonBody(new Recorder());
        body.cancel();
        body.onSubscribe(s);

        assertTrue(s.cancelled.get());
        assertEquals(0, s.requested.get());
    }

    /** Lines of any bytes (those next to a newline's value too) split anywhere arrive whole, as a byte-wise scan finds them. */
    @Test
    void linesOfAnyBytesSplitAnywhereArriveWhole() {
        byte[] alphabet = {'a', '\n', '\n', 0x0b, 0x09, (byte) 0x8a, 0x0a + 0x10, 0, (byte) 0xff, 0x01, '\r', '{'};
        Random random = new Random(11);
        for (int round = 0; round < 300; round++) {
            byte[] body = new byte[random.nextInt(200)];
            for (int i = 0; i < body.length; i++) {
                body[i] = random.nextInt(3) == 0 ? (byte) random.nextInt(256) : alphabet[random.nextInt(alphabet.length)];
            }
            List<String> expected = new ArrayList<>();
            int start = 0;
            for (int i = 0; i <= body.length; i++) {
                if (i == body.length || body[i] == '\n') {
                    int end = i > start && body[i - 1] == '\r' ? i - 1 : i;
                    if (end > start) {
                        expected.add(new String(body, start, end - start, StandardCharsets.ISO_8859_1));
                    }
                    start = i + 1;
                }
            }
            expected.add("end");
            List<String> seen = new ArrayList<>();
            NdjsonBody ndjson = new NdjsonBody(new NdjsonBody.Lines() {
                @Override
                public boolean line(byte[] bytes, int offset, int length) {
                    seen.add(new String(bytes, offset, length, StandardCharsets.ISO_8859_1));
                    return true;
                }

                @Override
                public void end() {
                    seen.add("end");
                }

                @Override
                public void failed(Throwable cause) {
                    seen.add("failed");
                }
            });
            ndjson.onSubscribe(new Subscription());
            for (int from = 0; from < body.length; ) {
                int to = Math.min(body.length, from + 1 + random.nextInt(40));
                byte[] piece = new byte[to - from + 16];
                System.arraycopy(body, from, piece, 8, to - from);
                ndjson.onNext(List.of(ByteBuffer.wrap(piece, 8, to - from).slice()));
                from = to;
            }
            ndjson.onComplete();
            assertEquals(expected, seen, "round " + round);
        }
    }
}
