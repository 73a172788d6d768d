package io.streamingllm.server.edge;

import io.helidon.webserver.ServerConnectionException;
import io.helidon.webserver.http.ServerResponse;

import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.net.SocketException;

/**
 * Sends a whole answer. A client that dropped its connection before it was written costs one log line, not a
 * stack trace: the failure is reported once and thrown on as a {@link ClientDropped}, which a handler
 * passes to Helidon to close the connection as one the client ended (an {@code UncheckedIOException} would reach
 * the error handler, and be logged with its stack trace). The error handler itself ends there ({@link Errors}).
 */
public final class ClientWrites {
    private static final System.Logger LOG = System.getLogger(ClientWrites.class.getName());

    private ClientWrites() {
    }

    public static void send(ServerResponse res, byte[] body) {
        try {
            res.send(body);
        } catch (UncheckedIOException e) {
            if (!(e.getCause() instanceof SocketException gone)) {
                throw e;
            }
            LOG.log(Level.INFO, "a client dropped its connection before its answer was written: " + gone.getMessage());
            throw new ClientDropped(gone);
        }
    }

    /** The client dropped its connection before its answer was written; the one log line is written already. */
    public static final class ClientDropped extends ServerConnectionException {
        ClientDropped(SocketException cause) {
            super("the client dropped the connection", cause);
        }
    }
}
