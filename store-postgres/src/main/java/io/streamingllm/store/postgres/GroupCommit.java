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
 * writer's rows in one transaction, one statement sent in one round trip (one WAL flush for all of them); each writer's future completes only after that
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

    /**
     * One transaction, one statement, one round trip: the conversations' rows (sorted, so concurrent replicas never
     * wait on each other in opposite orders), then the events in order (their {@code seq} follows the arrays).
     */
    private void commit(List<Pending> batch) throws SQLException {
        TreeSet<String> conversations = new TreeSet<>();
        batch.forEach(p -> conversations.add(p.events().getFirst().conversationId()));
        int n = batch.stream().mapToInt(p -> p.events().size()).sum();
        String[] ids = new String[n];
        String[] conversationIds = new String[n];
        String[] types = new String[n];
        String[] visibilities = new String[n];
        Long[] nanos = new Long[n];
        String[] lines = new String[n];
        int at = 0;
        for (Pending p : batch) {
            for (int i = 0; i < p.events().size(); i++, at++) {
                Event e = p.events().get(i);
                ids[at] = e.id();
                conversationIds[at] = e.conversationId();
                types[at] = e.type().name();
                visibilities[at] = e.visibility().wireName();
                nanos[at] = PgEventStore.nanos(e.timestamp());
                lines[at] = p.lines().get(i);
            }
        }
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(INSERT)) {
            c.setAutoCommit(true); // the statement is the transaction: committed (WAL flushed) when it returns
            ps.setArray(1, c.createArrayOf("text", conversations.toArray()));
            ps.setArray(2, c.createArrayOf("text", ids));
            ps.setArray(3, c.createArrayOf("text", conversationIds));
            ps.setArray(4, c.createArrayOf("text", types));
            ps.setArray(5, c.createArrayOf("text", visibilities));
            ps.setArray(6, c.createArrayOf("int8", nanos));
            ps.setArray(7, c.createArrayOf("text", lines));
            ps.executeUpdate();
        }
    }

    private static final String INSERT = "WITH c AS (INSERT INTO conversations (id) SELECT unnest(?::text[])"
            + " ON CONFLICT DO NOTHING)"
            + " INSERT INTO events (id, conversation_id, type, visibility, ts_nanos, line)"
            + " SELECT id, conversation_id, type, visibility, ts_nanos, line"
            + " FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::int8[], ?::text[])"
            + " WITH ORDINALITY AS r (id, conversation_id, type, visibility, ts_nanos, line, n) ORDER BY n";

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
