package io.streamingllm.server.limits;

import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.streamingllm.server.edge.ApiException;
import io.streamingllm.server.edge.Errors;

import java.net.SocketAddress;

/**
 * Answers every request on a connection that came beyond {@code STREAMING_LLM_MAX_CONNECTIONS} with 503 and closes
 * it, so that the client learns the server is full instead of waiting. The liveness probe is answered all the
 * same: a full server is alive. It also tells {@link ClientConnections} when each request is routed, for the read
 * timeout.
 */
public final class ConnectionCap implements Filter {
    private final ClientConnections connections;
    private final String livenessPath;

    public ConnectionCap(ClientConnections connections, String livenessPath) {
        this.connections = connections;
        this.livenessPath = livenessPath;
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        // ClientGone finds the connection's socket through the request
        req.context().register(connections);
        SocketAddress remote = req.remotePeer().address();
        if (!connections.overCap(remote) || livenessPath.equals(req.path().path())) {
            connections.requestStarted(remote);
            try {
                chain.proceed();
            } finally {
                connections.requestEnded(remote);
            }
            return;
        }
        res.header(HeaderValues.CONNECTION_CLOSE);
        res.header(HeaderNames.RETRY_AFTER, "1");
        Errors.send(req, res, new ApiException(503, "too_many_connections", "the server has "
                + connections.maxConnections() + " connections open (STREAMING_LLM_MAX_CONNECTIONS): try again later"));
        // the answer is written; Helidon keeps a connection open despite Connection: close unless told so
        throw new CloseConnectionException("over STREAMING_LLM_MAX_CONNECTIONS");
    }
}
