package io.streamingllm.server.limits;

import java.net.SocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The open WebSockets and what each may take: at most {@code maxWebSockets} open (beyond, close 1013),
 * {@code maxTurnsPerSocket} turns in flight on one, and the client's share of {@link TurnAdmission}. On shutdown
 * every open socket is told it is going away (error frame, close 1001) before the server stops. Thread-safe.
 */
public final class WebSockets {
    /** One open WebSocket, as the shutdown sees it. */
    public interface Socket {
        /** Error frame ("shutting down"), then close 1001; turns under way are cancelled. */
        void goingAway();

        /** Waits until the close frame is written (or the connection is gone); false on timeout. */
        boolean awaitClosed(long nanos) throws InterruptedException;
    }

    private final int maxWebSockets;
    private final int maxTurnsPerSocket;
    private final TurnAdmission admission;
    private final ClientConnections connections;
    private final AtomicInteger count = new AtomicInteger();
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();

    public WebSockets(int maxWebSockets, int maxTurnsPerSocket, TurnAdmission admission,
                      ClientConnections connections) {
        this.maxWebSockets = maxWebSockets;
        this.maxTurnsPerSocket = maxTurnsPerSocket;
        this.admission = admission;
        this.connections = connections;
    }

    /**
     * Counts {@code socket} as open, or refuses it (false) when {@code maxWebSockets} are; an open socket's reads
     * lose their deadline (a client may stay silent while it reads a long answer).
     */
    public boolean tryOpen(Socket socket, SocketAddress remote) {
        if (count.incrementAndGet() > maxWebSockets) {
            count.decrementAndGet();
            return false;
        }
        open.add(socket);
        connections.withoutReadTimeout(remote);
        return true;
    }

    /** The socket closed; counted once however often it is reported. */
    public void closed(Socket socket) {
        if (open.remove(socket)) {
            count.decrementAndGet();
        }
    }

    public String refusal() {
        return "the server has " + maxWebSockets + " WebSockets open (STREAMING_LLM_MAX_WEBSOCKETS): try again later";
    }

    /** Null when a socket may start one more turn, else why not. */
    public String perSocketRefusal(int inFlight) {
        return inFlight < maxTurnsPerSocket ? null : "this WebSocket has " + maxTurnsPerSocket
                + " turns in flight (STREAMING_LLM_MAX_TURNS_PER_SOCKET): wait for one to finish";
    }

    public Optional<TurnAdmission.Slot> tryAdmit(SocketAddress client) {
        return admission.tryAcquire(client);
    }

    public String perClientRefusal() {
        return admission.refusal();
    }

    /** Tells every open socket the server is going away and waits up to {@code wait} for their close frames. */
    public void goingAway(Duration wait) {
        List<Socket> sockets = List.copyOf(open);
        sockets.forEach(Socket::goingAway);
        long deadline = System.nanoTime() + wait.toNanos();
        try {
            for (Socket s : sockets) {
                if (!s.awaitClosed(Math.max(0, deadline - System.nanoTime()))) {
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** For tests and metrics: how many are open. */
    public int openCount() {
        return count.get();
    }

}
