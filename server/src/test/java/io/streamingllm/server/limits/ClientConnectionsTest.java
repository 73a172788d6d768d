package io.streamingllm.server.limits;

import io.helidon.common.socket.SocketOptions;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The table of accepted connections holds the ones still open, not every connection the server ever accepted: a
 * sidecar with a high connection cap serving short connections would otherwise keep each closed socket until the
 * cap; and the cap still counts only the open ones. The accept limit leaves descriptors for what the process holds
 * besides client connections, counted from what it holds open when the limit is set.
 */
class ClientConnectionsTest {
    private static final int CAP = 10_000;

    @Test
    void closedConnectionsLeaveTheTable() throws Exception {
        ClientConnections connections = new ClientConnections(SocketOptions.builder().build(), Duration.ofSeconds(30), CAP);
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
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
        ClientConnections connections = new ClientConnections(SocketOptions.builder().build(), Duration.ofSeconds(30), 2);
        List<Socket> sockets = new ArrayList<>();
        try (ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
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

    private static Socket connect(ServerSocket listener) throws Exception {
        Socket s = new Socket();
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), listener.getLocalPort()), 5_000);
        return s;
    }
}
