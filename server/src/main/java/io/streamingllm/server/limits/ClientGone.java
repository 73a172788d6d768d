package io.streamingllm.server.limits;

import io.helidon.webserver.http.ServerRequest;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Waits for a non-streamed answer while watching the client's connection, and cancels the work when the client
 * goes first (a streamed answer notices it by writing; a non-streamed one writes nothing until the end, so an
 * abandoned request would keep its upstream generating to the end). For any route that answers once:
 * {@code ClientGone.await(req, turn.result(), turn::cancel)}.
 *
 * <p>The watch reads the connection while the handler waits, which is safe because nothing else reads it then
 * (HTTP/1.1 clients send the next request after the answer). A client that closes its connection, or resets it,
 * is gone. Should bytes of a pipelined next request arrive, the watch ends (the answer is still awaited) and that
 * request is lost with its connection. The socket is found through the request's context, where
 * {@link ConnectionCap} (the first filter of the routing) puts the {@link ClientConnections}; without it the
 * answer is simply awaited.
 */
public final class ClientGone {
    /**
     * The longest read between looks at the result, and so the most the watch adds to an answer's latency; reads
     * start at 1 ms and double up to it, so that quick answers are not held back.
     */
    private static final int MAX_POLL_MILLIS = 20;
    /** How long the answer is awaited before the watch starts: quick answers are never held back by it. */
    private static final long FIRST_WAIT_MILLIS = 20;

    private ClientGone() {
    }

    /**
     * The result of {@code work}, awaited; {@code cancel} runs once if the client of {@code req} goes away first
     * (then the result is still awaited: a cancelled turn completes promptly).
     */
    public static <T> T await(ServerRequest req, CompletableFuture<T> work, Runnable cancel) {
        Optional<Socket> socket = req.context().get(ClientConnections.class)
                .flatMap(c -> c.socket(req.remotePeer().address()));
        if (socket.isPresent() && !quicklyDone(work)) {
            watch(socket.get(), work, cancel);
        }
        return work.join();
    }

    private static boolean quicklyDone(CompletableFuture<?> work) {
        try {
            work.get(FIRST_WAIT_MILLIS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException stillRunning) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | CancellationException failed) {
            // join() reports it
        }
        return true;
    }

    private static void watch(Socket socket, CompletableFuture<?> work, Runnable cancel) {
        int saved;
        try {
            saved = socket.getSoTimeout();
        } catch (IOException e) {
            cancel.run();
            return;
        }
        try {
            InputStream in = socket.getInputStream();
            int poll = 1;
            while (!work.isDone()) {
                try {
                    socket.setSoTimeout(poll);
                    poll = Math.min(MAX_POLL_MILLIS, poll * 2);
                    if (in.read() < 0) {
                        cancel.run();
                    }
                    return;
                } catch (SocketTimeoutException stillThere) {
                    // nothing from the client: it is waiting, as it should
                }
            }
        } catch (IOException reset) {
            cancel.run();
        } finally {
            try {
                socket.setSoTimeout(saved);
            } catch (IOException closed) {
                // the connection is gone; the answer will fail to be written, which the server handles
            }
        }
    }
}
