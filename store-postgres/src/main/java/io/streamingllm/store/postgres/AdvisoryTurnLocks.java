package io.streamingllm.store.postgres;

import io.streamingllm.core.store.TurnLocks;

import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * One turn at a time per conversation across replicas: a session-level advisory lock
 * ({@code pg_try_advisory_lock}) per conversation held on one connection of its own, outside the pool (a pool would
 * retire it and its locks with it). The server ends a session's locks with its connection, so a replica that dies
 * mid-turn (SIGKILL, a lost node) frees its conversations as soon as its connection closes. The key is the first
 * 64 bits of SHA-256 of the conversation id, the same on every replica. Within the process the holds are counted
 * (a turn's lock may outlive it while its summary rewrite runs, and the next turn here takes it again); the
 * server's lock is taken by the first and let go by the last. Thread-safe (calls are serialised: each is one
 * short round trip).
 */
final class AdvisoryTurnLocks implements TurnLocks {
    private static final System.Logger LOG = System.getLogger(AdvisoryTurnLocks.class.getName());

    private final Supplier<Connection> connect;
    /** Conversations this process holds, with how many holds each. */
    private final Map<String, Integer> held = new HashMap<>();
    private Connection connection;
    private boolean closed;

    /** @param connect opens the lock connection (the store's URL and credentials); throws {@link StoreException} */
    AdvisoryTurnLocks(Supplier<Connection> connect) {
        this.connect = connect;
        this.connection = connect.get();
    }

    @Override
    public synchronized boolean tryLock(String conversationId) {
        if (closed) {
            throw new StoreException("the store is closed");
        }
        Integer holds = held.get(conversationId);
        if (holds != null) {
            held.put(conversationId, holds + 1);
            return true;
        }
        boolean got;
        try {
            got = tryLock(connection(), conversationId);
        } catch (SQLException first) {
            // the connection broke: the server has let go of everything it held; a new one holds only what follows
            if (!held.isEmpty()) {
                LOG.log(System.Logger.Level.WARNING, "turn locks: the lock connection broke (" + StoreException.reason(first)
                        + "); " + held.size() + " turn(s) under way lost their cross-replica lock");
            }
            held.clear();
            reconnect();
            try {
                got = tryLock(connection(), conversationId);
            } catch (SQLException second) {
                throw new StoreException("cannot take the turn lock of conversation " + conversationId + ": "
                        + StoreException.reason(second), second);
            }
        }
        if (got) {
            held.put(conversationId, 1);
        }
        return got;
    }

    @Override
    public synchronized void unlock(String conversationId) {
        Integer holds = held.get(conversationId);
        if (holds == null) {
            return;
        }
        if (holds > 1) {
            held.put(conversationId, holds - 1);
            return;
        }
        held.remove(conversationId);
        if (connection == null) {
            return;
        }
        try (PreparedStatement ps = connection.prepareStatement("SELECT pg_advisory_unlock(?)")) {
            ps.setLong(1, key(conversationId));
            ps.executeQuery().close();
        } catch (SQLException e) {
            // a broken connection has let go of the lock already; the next tryLock opens a new one
            LOG.log(System.Logger.Level.WARNING, "turn locks: cannot unlock " + conversationId + ": "
                    + StoreException.reason(e));
        }
    }

    /** Conversations this replica holds now (tests). */
    synchronized int held() {
        return held.size();
    }

    @Override
    public synchronized void close() {
        closed = true;
        held.clear();
        if (connection != null) {
            try {
                connection.close(); // ends the session: every lock it held goes
            } catch (SQLException ignored) {
                // gone already
            }
            connection = null;
        }
    }

    private Connection connection() throws SQLException {
        if (connection == null || connection.isClosed()) {
            reconnect();
        }
        return connection;
    }

    private void reconnect() {
        try {
            if (connection != null) {
                connection.close();
            }
        } catch (SQLException ignored) {
            // broken anyway
        }
        connection = null;
        connection = connect.get();
    }

    private static boolean tryLock(Connection c, String conversationId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
            ps.setLong(1, key(conversationId));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    static long key(String conversationId) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(("streaming-llm turn " + conversationId).getBytes(StandardCharsets.UTF_8));
            return ByteBuffer.wrap(digest).getLong();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
