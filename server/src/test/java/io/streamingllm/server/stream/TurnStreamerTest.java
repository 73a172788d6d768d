package io.streamingllm.server.stream;

import io.helidon.webserver.http.ServerResponse;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.session.Turn;
import io.streamingllm.core.session.TurnResult;
import io.streamingllm.server.edge.ApiException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A mistake in the relay tends to leave it waiting forever: each test fails after 10 s instead. */
@Timeout(10)
class TurnStreamerTest {
    private static final Duration NO_HEARTBEAT = Duration.ofSeconds(30);

    private static final class FakeTurn implements Turn {
        final CompletableFuture<TurnResult> result = new CompletableFuture<>();
        volatile boolean cancelled;

        @Override
        public String conversationId() {
            return "c1";
        }

        @Override
        public CompletableFuture<TurnResult> result() {
            return result;
        }

        @Override
        public void cancel() {
            cancelled = true;
        }
    }

    /** A response body that remembers each flushed write; {@link #afterWrite} runs after each. */
    private static class Body extends OutputStream {
        final List<String> writes = new ArrayList<>();
        private final ByteArrayOutputStream pending = new ByteArrayOutputStream();

        @Override
        public void write(int b) throws IOException {
            pending.write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            pending.write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
            if (pending.size() > 0) {
                writes.add(pending.toString(StandardCharsets.UTF_8));
                pending.reset();
                afterWrite();
            }
        }

        void afterWrite() {
        }
    }

    /** Records as short lines, so that the writes show what was batched. */
    private static final StreamFormat FORMAT = new StreamFormat() {
        @Override
        public String contentType() {
            return "text/plain";
        }

        @Override
        public void token(StringBuilder out, String delta) {
            out.append("t:").append(delta).append('\n');
        }

        @Override
        public void done(StringBuilder out, TurnResult result) {
            out.append("done:").append(result.finishReason().wireName()).append('\n');
        }

        @Override
        public void error(StringBuilder out, ApiException error) {
            out.append("error:").append(error.error()).append('\n');
        }

        @Override
        public String heartbeat() {
            return ".";
        }
    };

    /** A response whose body is {@code body}; headers and status are accepted and ignored. */
    private static ServerResponse response(OutputStream body) {
        return (ServerResponse) Proxy.newProxyInstance(ServerResponse.class.getClassLoader(),
                new Class<?>[] {ServerResponse.class}, (proxy, method, args) -> {
                    if (method.getName().equals("outputStream")) {
                        return body;
                    }
                    if (method.getReturnType() == ServerResponse.class) {
                        return proxy;
                    }
                    if (method.getReturnType() == boolean.class) {
                        return false;
                    }
                    return null;
                });
    }

    private static TurnResult result(FinishReason reason) {
        return new TurnResult("c1", "", reason, 1, 2, 0, 0, 0, 0);
    }

    private static TurnStreamer streamer(int capacity, Duration heartbeat) {
        return new TurnStreamer(new StreamSettings(capacity, heartbeat, Duration.ofSeconds(30)));
    }

    @Test
    void queuedTokensAndTheDoneRecordGoOutInOneWriteOnceTheTurnIsDurable() {
        TurnStreamer streamer = streamer(10, NO_HEARTBEAT);
        FakeTurn turn = new FakeTurn();
        streamer.onToken("a");
        streamer.onToken("b");
        turn.result.complete(result(FinishReason.STOP));
        Body body = new Body();
        streamer.stream(turn, response(body), FORMAT);
        assertEquals(List.of("t:a\nt:b\ndone:stop\n"), body.writes);
        assertFalse(turn.cancelled);
    }

    @Test
    void aClientThatFallsCapacityBehindGetsAnErrorAndItsTurnCancelled() {
        TurnStreamer streamer = streamer(2, NO_HEARTBEAT);
        FakeTurn turn = new FakeTurn();
        streamer.onToken("a");
        streamer.onToken("b");
        streamer.onToken("c");
        streamer.onToken("d");
        Body body = new Body();
        streamer.stream(turn, response(body), FORMAT);
        assertEquals(List.of("t:a\nt:b\nerror:client_too_slow\n"), body.writes);
        assertTrue(turn.cancelled);
    }

    /** As the outbox's writer (see {@link TokenOutboxTest#aWaitingWriterWaitsWithoutADeadline}), before the commit too. */
    @Test
    void theRequestWaitsForItsFirstTokenWithoutADeadline() throws Exception {
        TurnStreamer streamer = streamer(10, NO_HEARTBEAT);
        FakeTurn turn = new FakeTurn();
        Body body = new Body();
        Thread request = Thread.ofVirtual().start(() -> streamer.stream(turn, response(body), FORMAT));
        assertEquals(Thread.State.WAITING, TokenOutboxTest.parkedState(request));
        streamer.onToken("a");
        turn.result.complete(result(FinishReason.STOP));
        request.join();
        assertEquals("t:a\ndone:stop\n", String.join("", body.writes));
    }

    @Test
    void heartbeatsWhileIdleThenTheEnd() {
        TurnStreamer streamer = streamer(10, Duration.ofNanos(1));
        FakeTurn turn = new FakeTurn();
        Body body = new Body() {
            @Override
            void afterWrite() {
                if (writes.size() == 3) {
                    turn.result.complete(result(FinishReason.LENGTH));
                }
            }
        };
        streamer.stream(turn, response(body), FORMAT);
        assertEquals(List.of(".", ".", ".", "done:length\n"), body.writes);
    }

    @Test
    void aTurnThatFailsOrIsCancelledEndsWithAnErrorRecord() {
        TurnStreamer failing = streamer(10, NO_HEARTBEAT);
        FakeTurn failed = new FakeTurn();
        failing.onToken("a");
        failed.result.completeExceptionally(new EngineException(EngineException.Kind.UNREACHABLE, "gone"));
        Body failedBody = new Body();
        failing.stream(failed, response(failedBody), FORMAT);
        assertEquals(List.of("t:a\nerror:engine_unavailable\n"), failedBody.writes);

        TurnStreamer cancelling = streamer(10, NO_HEARTBEAT);
        FakeTurn cancelled = new FakeTurn();
        cancelled.result.complete(result(FinishReason.CANCELLED));
        Body cancelledBody = new Body();
        cancelling.stream(cancelled, response(cancelledBody), FORMAT);
        assertEquals(List.of("error:cancelled\n"), cancelledBody.writes);
    }

    @Test
    void aClientThatWentAwayCancelsTheTurn() {
        TurnStreamer streamer = streamer(10, NO_HEARTBEAT);
        FakeTurn turn = new FakeTurn();
        streamer.onToken("a");
        OutputStream broken = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("connection reset");
            }
        };
        streamer.stream(turn, response(broken), FORMAT);
        assertTrue(turn.cancelled);
    }

    @Test
    void aTurnRefusedBeforeItsFirstTokenIsThrownWithItsStatusAndNothingIsWritten() {
        TurnStreamer streamer = streamer(10, Duration.ofSeconds(5));
        FakeTurn refused = new FakeTurn();
        refused.result.completeExceptionally(new EngineException(EngineException.Kind.RATE_LIMITED, "slow down",
                Duration.ofSeconds(3)));
        Body body = new Body();
        ApiException e = assertThrows(ApiException.class, () -> streamer.stream(refused, response(body), FORMAT));
        assertEquals(429, e.status());
        assertEquals(Duration.ofSeconds(3), e.retryAfter().orElseThrow());
        assertEquals(List.of(), body.writes, "the response was not committed");
    }
}
