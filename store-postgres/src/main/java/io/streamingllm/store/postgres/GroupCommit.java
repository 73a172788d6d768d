package io.streamingllm.store.postgres;

import io.streamingllm.core.log.Event;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * Group commit over PostgreSQL: appends queue up while a commit is under way, and the next commit takes every waiting
 * writer's rows in one transaction (one WAL flush for all of them); each writer's future completes only after that
 * commit returned, so an append is acknowledged only once it is durable ({@code synchronous_commit} on, PostgreSQL's
 * default). A commit that fails is retried for up to {@code writeRetry} (a restarting server, a pool briefly out of
 * connections), then its writers fail and nothing of theirs was committed. One writer thread. Thread-safe.
 */
final class GroupCommit implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(GroupCommit.class.getName());
    /** Rows of one transaction at most: a huge backlog is committed in a few transactions, not one. */
    private static final int MAX_BATCH_EVENTS = 4096;

    private record Pending(List<Event> events, List<String> lines, CompletableFuture<Void> done) {
    }

    private final DataSource ds;
    private final Duration writeRetry;
    private final LinkedBlockingQueue<Pending> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean closed;
    private volatile LongConsumer listener = nanos -> { };
    /** Why the last commit failed; null once one succeeded. */
    private volatile String failure;

    GroupCommit(DataSource ds, Duration writeRetry) {
        this.ds = ds;
        this.writeRetry = writeRetry;
        this.thread = Thread.ofPlatform().daemon().name("pg-group-commit").start(this::run);
    }

    /** Queues one conversation's events (with their JSON lines); the future completes once they are committed. */
    CompletableFuture<Void> submit(List<Event> events, List<String> lines) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (closed) {
            done.completeExceptionally(new SQLException("the store is closed"));
            return done;
        }
        queue.add(new Pending(events, lines, done));
        if (closed && queue.remove(new Pending(events, lines, done))) {
            done.completeExceptionally(new SQLException("the store is closed"));
        }
        return done;
    }

    void onCommit(LongConsumer l) {
        listener = l == null ? nanos -> { } : l;
    }

    /** Why commits fail now; null while they succeed. */
    String failure() {
        return failure;
    }

    void clearFailure() {
        failure = null;
    }

    private void run() {
        while (!closed || !queue.isEmpty()) {
            Pending first;
            try {
                first = queue.poll(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                continue; // close() interrupts only to end the wait; the loop checks closed
            }
            if (first == null) {
                continue;
            }
            List<Pending> batch = new ArrayList<>();
            batch.add(first);
            int events = first.events().size();
            Pending next;
            while (events < MAX_BATCH_EVENTS && (next = queue.poll()) != null) {
                batch.add(next);
                events += next.events().size();
            }
            commitWithRetry(batch);
        }
    }

    private void commitWithRetry(List<Pending> batch) {
        long deadline = System.nanoTime() + writeRetry.toNanos();
        long backoffMs = 20;
        while (true) {
            long started = System.nanoTime();
            try {
                commit(batch);
                failure = null;
                listener.accept(System.nanoTime() - started);
                batch.forEach(p -> p.done().complete(null));
                return;
            } catch (SQLException | RuntimeException e) {
                failure = StoreException.reason(e);
                if (System.nanoTime() >= deadline || closed) {
                    LOG.log(System.Logger.Level.WARNING, "PostgreSQL store: " + batch.size()
                            + " append(s) failed: " + failure);
                    batch.forEach(p -> p.done().completeExceptionally(e));
                    return;
                }
                try {
                    Thread.sleep(backoffMs); // waiting for the database to come back, not for another thread
                } catch (InterruptedException interrupted) {
                    Thread.currentThread().interrupt();
                }
                Thread.interrupted();
                backoffMs = Math.min(500, backoffMs * 2);
            }
        }
    }

    /** One transaction: the conversations' rows (sorted, so concurrent replicas never deadlock), then the events. */
    private void commit(List<Pending> batch) throws SQLException {
        TreeSet<String> conversations = new TreeSet<>();
        batch.forEach(p -> conversations.add(p.events().getFirst().conversationId()));
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try {
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO conversations (id) VALUES (?) ON CONFLICT DO NOTHING")) {
                    for (String id : conversations) {
                        ps.setString(1, id);
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO events (id, conversation_id, type,"
                        + " visibility, ts_nanos, line) VALUES (?, ?, ?, ?, ?, ?)")) {
                    for (Pending p : batch) {
                        for (int i = 0; i < p.events().size(); i++) {
                            Event e = p.events().get(i);
                            ps.setString(1, e.id());
                            ps.setString(2, e.conversationId());
                            ps.setString(3, e.type().name());
                            ps.setString(4, e.visibility().wireName());
                            ps.setLong(5, PgEventStore.nanos(e.timestamp()));
                            ps.setString(6, p.lines().get(i));
                            ps.addBatch();
                        }
                    }
                    ps.executeBatch();
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException ignored) {
                    // the connection is gone: nothing was committed
                }
                throw e;
            }
        }
    }

    /** Commits what is queued, then stops the writer. */
    @Override
    public void close() {
        closed = true;
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30) + writeRetry.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Pending p;
        while ((p = queue.poll()) != null) {
            p.done().completeExceptionally(new SQLException("the store is closed"));
        }
    }
}
