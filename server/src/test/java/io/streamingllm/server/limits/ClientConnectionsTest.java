package io.streamingllm.server.limits;

import io.helidon.common.socket.SocketOptions;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The table of accepted connections holds the ones still open, not every connection the server ever accepted: a
 * sidecar with a high connection cap serving short connections would otherwise keep each closed socket until the
 * cap; and the cap still counts only the open ones. The accept limit leaves descriptors for what the process holds
 * besides client connections, counted from what it holds open when the limit is set.
 */
class ClientConnectionsTest {
    private static final int CAP = 10_000;

    /**
     * Between requests a connection's reads have no socket timeout (on a virtual thread each timed read wakes the
     * carrier pool's timer thread twice): the sweeper closes it once it waited the read timeout for a request.
     */
    @Test
    void aConnectionWaitingForARequestIsClosedAfterTheReadTimeoutWithoutASocketTimeout() throws Exception {
        Duration timeout = Duration.ofMillis(300);
        try (Accepted a = Accepted.open(timeout)) {
            Socket accepted = a.socket();
            long start = System.nanoTime();
            a.connections().configureSocket(accepted);
            assertEquals(0, accepted.getSoTimeout(), "no socket timeout while waiting for a request");
            assertThrows(SocketException.class, () -> accepted.getInputStream().read(), "closed by the sweeper");
            long waited = System.nanoTime() - start;
            assertTrue(waited >= timeout.toNanos(), "closed after " + waited + " ns, before the read timeout");
            assertTrue(waited < Duration.ofSeconds(5).toNanos(), "closed only after " + waited + " ns");
        }
    }

    /** While a request is routed its body reads time out (408), and the connection stays open however long it takes. */
    @Test
    void aRoutedRequestsReadsTimeOutButItsConnectionStaysOpen() throws Exception {
        Duration timeout = Duration.ofMillis(100);
        try (Accepted a = Accepted.open(timeout)) {
            ClientConnections connections = a.connections();
            Socket accepted = a.socket();
            connections.configureSocket(accepted);
            connections.requestStarted(accepted.getRemoteSocketAddress());
            assertEquals(100, accepted.getSoTimeout());
            for (int i = 0; i < 4; i++) { // 400 ms in the request: four read timeouts, no close
                assertThrows(SocketTimeoutException.class, () -> accepted.getInputStream().read());
            }
            assertFalse(accepted.isClosed(), "a request being routed is not the sweeper's");
            connections.requestEnded(accepted.getRemoteSocketAddress());
            assertEquals(0, accepted.getSoTimeout(), "no socket timeout while waiting for the next request");
            assertThrows(SocketException.class, () -> accepted.getInputStream().read(), "closed by the sweeper");
        }
    }

    @Test
    void closedConnectionsLeaveTheTable() throws Exception {
        try (ClientConnections connections = new ClientConnections(SocketOptions.builder().build(), Duration.ofSeconds(30), CAP);
             ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            for (int i = 0; i < 300; i++) {
                try (Socket client = connect(listener); Socket accepted = listener.accept()) {
                    connections.configureSocket(accepted);
                }
            }
            assertTrue(connections.tracked() <= ClientConnections.MIN_PRUNE_SIZE,
                    "300 closed connections, " + connections.tracked() + " still in the table");
        }
    }

    @Test
    void theCapCountsOnlyOpenConnections() throws Exception {
        List<Socket> sockets = new ArrayList<>();
        try (ClientConnections connections = new ClientConnections(SocketOptions.builder().build(), Duration.ofSeconds(30), 2);
             ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            for (int i = 0; i < 100; i++) {
                try (Socket client = connect(listener); Socket accepted = listener.accept()) {
                    connections.configureSocket(accepted);
                    assertFalse(connections.overCap(accepted.getRemoteSocketAddress()), "one open connection of 2");
                }
            }
            for (int i = 0; i < 3; i++) {
                sockets.add(connect(listener));
                Socket accepted = listener.accept();
                sockets.add(accepted);
                connections.configureSocket(accepted);
                assertTrue(connections.overCap(accepted.getRemoteSocketAddress()) == (i == 2),
                        "connection " + (i + 1) + " with the cap at 2");
            }
        } finally {
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    @Test
    void theAcceptLimitLeavesRoomForTheDescriptorsAlreadyOpen() {
        // a quarter of the limit, at least 128, is left for everything else where little is open
        assertEquals(768, ClientConnections.acceptLimit(4096, 1024, 70));
        assertEquals(128, ClientConnections.acceptLimit(4096, 256, 40));
        // a process holding 110 of 256 (a long class path, logs, the index) keeps 64 more free besides them;
        // a quarter would have left 18, and a burst of accepts ran it out of descriptors (the listener ended)
        assertEquals(82, ClientConnections.acceptLimit(4096, 256, 110));
        // never fewer than 16; never more than the configured connections and some to answer 503 on
        assertEquals(16, ClientConnections.acceptLimit(4096, 256, 250));
        assertEquals(164, ClientConnections.acceptLimit(100, 1_000_000, 70));
    }

    /** One connection on loopback: the table with {@code readTimeout}, and the server's side of an accepted socket. */
    private record Accepted(ClientConnections connections, ServerSocket listener, Socket client, Socket socket)
            implements AutoCloseable {
        static Accepted open(Duration readTimeout) throws Exception {
            ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            Socket client = connect(listener);
            return new Accepted(new ClientConnections(SocketOptions.builder().build(), readTimeout, CAP), listener,
                    client, listener.accept());
        }

        @Override
        public void close() throws Exception {
            try (connections; listener; client; socket) {
                // all four closed, in reverse order
            }
        }
    }

    private static Socket connect(ServerSocket listener) throws Exception {
        Socket s = new Socket();
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort()), 5_000);
        return s;
    }
}
