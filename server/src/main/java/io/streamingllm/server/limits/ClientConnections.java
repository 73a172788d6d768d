package io.streamingllm.server.limits;

import io.helidon.common.socket.SocketOptions;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The client connections the web server accepted, as {@link SocketOptions} so that it sees each socket as it is
 * accepted. It enforces the read timeout, which Helidon does not (half-sent headers or bodies would hold a connection
 * forever): between requests a connection has {@code readTimeout} for the next request's headers, else a sweeper
 * thread closes it (that is also how long an idle keep-alive connection stays open); while a request is routed
 * ({@link #requestStarted} to {@link #requestEnded}, from {@link ConnectionCap}) its body reads time out after that
 * long a silence (408). The wait between requests has no socket timeout on purpose: on a virtual thread a read with
 * one registers a timer with the carrier pool's scheduler thread and cancels it when the data comes, two wake-ups of
 * that thread for every request. It also remembers which connections came beyond {@code maxConnections} (their
 * requests are answered 503 by {@link ConnectionCap}), and lets a WebSocket go without the timeout, since its client
 * may rightly stay silent while it reads a long answer.
 *
 * <p>Thread-safe: sockets are accepted on the listener's thread, looked up on connection threads, swept on the
 * sweeper's.
 */
public final class ClientConnections implements SocketOptions, AutoCloseable {
    /** Descriptors left for everything but client connections: jars, log files, upstream connections. */
    private static final int MIN_DESCRIPTOR_RESERVE = 128;
    /**
     * Descriptors left beyond those open when the limit is set: jars opened as classes load later, log files,
     * upstream connections, the index's files while it commits.
     */
    private static final int DESCRIPTOR_HEADROOM = 64;

    private final SocketOptions base;
    private final int readTimeoutMillis;
    private final int maxConnections;
    private final Map<SocketAddress, Connection> open = new ConcurrentHashMap<>();
    private final Map<SocketAddress, Boolean> overCap = new ConcurrentHashMap<>();
    /**
     * The table's size at which closed connections are dropped from it (Helidon tells nothing of a close): without
     * it, a server with a high cap would keep every closed socket until the cap. Races only add a prune.
     */
    private volatile int pruneAt = MIN_PRUNE_SIZE;
    private final Thread sweeper;
    private volatile boolean closed;
    static final int MIN_PRUNE_SIZE = 64;

    /** {@link Connection#waitingSince} of a connection whose request is being routed. */
    private static final long IN_REQUEST = Long.MAX_VALUE;
    /** {@link Connection#waitingSince} of a WebSocket: never closed for silence. */
    private static final long WEB_SOCKET = Long.MIN_VALUE;

    /** An accepted connection, and since when ({@link System#nanoTime}) it has waited for a request's headers. */
    private static final class Connection {
        final Socket socket;
        volatile long waitingSince = System.nanoTime();

        Connection(Socket socket) {
            this.socket = socket;
        }
    }

    public ClientConnections(SocketOptions base, Duration readTimeout, int maxConnections) {
        this.base = base;
        this.readTimeoutMillis = Math.toIntExact(readTimeout.toMillis());
        this.maxConnections = maxConnections;
        long period = Math.clamp(readTimeout.toNanos() / 4, TimeUnit.MILLISECONDS.toNanos(10), TimeUnit.SECONDS.toNanos(1));
        this.sweeper = Thread.ofPlatform().daemon().name("connection-sweeper").start(() -> sweep(period));
    }

    /** Stops the sweeper (the server has stopped). */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(sweeper);
    }

    /**
     * Closes, every {@code period}, the connections that waited longer than the read timeout for a request's headers;
     * a blocked read then fails and Helidon ends the connection.
     */
    private void sweep(long period) {
        long timeout = TimeUnit.MILLISECONDS.toNanos(readTimeoutMillis);
        while (!closed) {
            LockSupport.parkNanos(this, period);
            long now = System.nanoTime();
            for (Connection c : open.values()) {
                long since = c.waitingSince;
                if (since != IN_REQUEST && since != WEB_SOCKET && now - since > timeout && !c.socket.isClosed()) {
                    try {
                        c.socket.close();
                    } catch (IOException ignored) {
                        // closing is all that was wanted
                    }
                }
            }
        }
    }

    /**
     * How many connections the server may accept at once: {@code configured}, but never so many that accepting
     * one more fails for want of a descriptor (the listener would end for good). Called once the services are
     * open, so that the descriptors they hold already (jars, logs, the index) are counted.
     */
    public static int acceptLimit(int configured) {
        return acceptLimit(configured, descriptorLimit(), descriptorsInUse());
    }

    /**
     * The limit for {@code limit} descriptors of which {@code inUse} are open: a quarter of them, at least
     * {@value #MIN_DESCRIPTOR_RESERVE}, or those in use and {@value #DESCRIPTOR_HEADROOM} more if that is more,
     * are left for everything but client connections.
     */
    static int acceptLimit(int configured, long limit, long inUse) {
        long reserve = Math.max(Math.max(MIN_DESCRIPTOR_RESERVE, limit / 4), inUse + DESCRIPTOR_HEADROOM);
        long usable = Math.max(16, limit - reserve);
        return (int) Math.min(configured + 64L, usable);
    }

    /** The process's limit on open descriptors ({@code ulimit -n}); a large number where it cannot be read. */
    static long descriptorLimit() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            return unix.getMaxFileDescriptorCount();
        }
        return Integer.MAX_VALUE;
    }

    /** The descriptors the process holds open now; 0 where it cannot be read. */
    static long descriptorsInUse() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            return Math.max(0, unix.getOpenFileDescriptorCount());
        }
        return 0;
    }

    @Override
    public void configureSocket(Socket socket) {
        base.configureSocket(socket);
        SocketAddress remote = socket.getRemoteSocketAddress();
        overCap.remove(remote); // a closed connection's address (and port) may come back
        if (open.size() >= Math.min(maxConnections, pruneAt)) {
            open.values().removeIf(c -> c.socket.isClosed());
            overCap.keySet().retainAll(open.keySet());
            // the next look when the table has doubled: each accept pays for a prune's scan a constant share
            pruneAt = Math.max(MIN_PRUNE_SIZE, 2 * open.size());
        }
        if (open.size() >= maxConnections) {
            overCap.put(remote, Boolean.TRUE);
        }
        open.put(remote, new Connection(socket));
    }

    /** A request from {@code remote} is being routed: its body reads time out after the read timeout's silence. */
    public void requestStarted(SocketAddress remote) {
        Connection c = open.get(remote);
        if (c != null) {
            c.waitingSince = IN_REQUEST;
            setReadTimeout(c.socket, readTimeoutMillis);
        }
    }

    /** The request from {@code remote} is answered: the next one's headers are due within the read timeout. */
    public void requestEnded(SocketAddress remote) {
        Connection c = open.get(remote);
        if (c != null && c.waitingSince == IN_REQUEST) {
            setReadTimeout(c.socket, 0);
            c.waitingSince = System.nanoTime();
        }
    }

    private static void setReadTimeout(Socket socket, int millis) {
        try {
            socket.setSoTimeout(millis);
        } catch (IOException closed) {
            // the connection is gone: its reads fail anyway
        }
    }

    /** True when the connection from {@code remote} came while {@code maxConnections} were open. */
    public boolean overCap(SocketAddress remote) {
        return overCap.containsKey(remote);
    }

    /** A WebSocket's reads wait without a deadline: the client may be reading a long answer, pongs are optional. */
    public void withoutReadTimeout(SocketAddress remote) {
        Connection c = open.get(remote);
        if (c != null) {
            c.waitingSince = WEB_SOCKET;
            setReadTimeout(c.socket, 0);
        }
    }

    /** Connections in the table: the open ones, and closed ones not yet pruned (tests). */
    int tracked() {
        return open.size();
    }

    /** The open connection from {@code remote}, if it is one the server accepted. */
    Optional<Socket> socket(SocketAddress remote) {
        Connection c = open.get(remote);
        return c == null || c.socket.isClosed() ? Optional.empty() : Optional.of(c.socket);
    }

    public int maxConnections() {
        return maxConnections;
    }

    // --- SocketOptions: the configured options, unchanged ---------------------------------------------------

    @Override
    public Map<SocketOption<?>, Object> socketOptions() {
        return base.socketOptions();
    }

    @Override
    public Duration connectTimeout() {
        return base.connectTimeout();
    }

    @Override
    public Duration readTimeout() {
        return Duration.ofMillis(readTimeoutMillis);
    }

    @Override
    public Optional<Integer> socketReceiveBufferSize() {
        return base.socketReceiveBufferSize();
    }

    @Override
    public Optional<Integer> socketSendBufferSize() {
        return base.socketSendBufferSize();
    }

    @Override
    public boolean socketReuseAddress() {
        return base.socketReuseAddress();
    }

    @Override
    public boolean socketKeepAlive() {
        return base.socketKeepAlive();
    }

    @Override
    public boolean tcpNoDelay() {
        return base.tcpNoDelay();
    }
}
