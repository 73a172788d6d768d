package io.streamingllm.store.postgres;

import io.streamingllm.core.Ids;
import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventPage;
import io.streamingllm.core.log.EventQuery;
import io.streamingllm.core.log.EventStore;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.log.LogHealth;
import io.streamingllm.core.log.LogWriteException;
import io.streamingllm.core.log.Visibility;
import jakarta.json.Json;
import jakarta.json.JsonReader;
import jakarta.json.JsonReaderFactory;
import jakarta.json.JsonWriter;
import jakarta.json.JsonWriterFactory;

import javax.sql.DataSource;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Optional;
import java.util.Set;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.concurrent.CompletionException;
import java.util.function.LongConsumer;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * The events in PostgreSQL (table {@code events}, one row per event with its whole JSON line): appends through
 * {@link GroupCommit}, every read an indexed query, every stream read a page at a time by key (never the whole table,
 * never a connection held by an open stream). Several processes may append: {@link #shared} is true. Thread-safe.
 */
final class PgEventStore implements EventStore {
    /** Events per page of the streams ({@link #read}, {@link #since}, {@link #byType}). */
    static final int STREAM_PAGE = 1_000;
    private static final JsonWriterFactory WRITERS = Json.createWriterFactory(Map.of());
    private static final JsonReaderFactory READERS = Json.createReaderFactory(Map.of());

    private final DataSource ds;
    private final String where;
    private final GroupCommit writer;
    /** Sees every read statement and its parameters before it runs (tests check their plans). */
    private volatile Statements observer = (sql, params) -> { };
    private volatile long lastProbeNanos = System.nanoTime() - 2_000_000_000L;
    private volatile String probeFailure;

    PgEventStore(DataSource ds, String where, Duration writeRetry) {
        this.ds = ds;
        this.where = where;
        this.writer = new GroupCommit(ds, writeRetry);
    }

    @Override
    public Event append(Event event) {
        appendAll(List.of(event));
        return event;
    }

    @Override
    public List<Event> appendAll(List<Event> events) {
        if (events.isEmpty()) {
            return List.of();
        }
        String conversationId = events.getFirst().conversationId();
        List<String> lines = new ArrayList<>(events.size());
        for (Event e : events) {
            if (!e.conversationId().equals(conversationId)) {
                throw new IllegalArgumentException("appendAll takes events of one conversation; got "
                        + conversationId + " and " + e.conversationId());
            }
            lines.add(line(e));
        }
        try {
            writer.submit(List.copyOf(events), lines).join();
        } catch (CompletionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new LogWriteException("cannot append to log of conversation " + conversationId + " in PostgreSQL at "
                    + where + ": " + StoreException.reason(cause), new IOException(cause));
        }
        return List.copyOf(events);
    }

    @Override
    public Stream<Event> read(String conversationId) {
        Ids.require("conversation", conversationId);
        long[] after = {0};
        return pages(() -> {
            List<Event> page = new ArrayList<>();
            query("SELECT seq, line FROM events WHERE conversation_id = ? AND seq > ? ORDER BY seq LIMIT " + STREAM_PAGE,
                    ps -> {
                        ps.setString(1, conversationId);
                        ps.setLong(2, after[0]);
                    }, rs -> {
                        after[0] = rs.getLong(1);
                        page.add(event(rs.getString(2)));
                    });
            return page;
        });
    }

    @Override
    public List<Event> tail(String conversationId, int limit) {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must not be negative, got " + limit);
        }
        Ids.require("conversation", conversationId);
        if (limit == 0) {
            return List.of();
        }
        List<Event> newestFirst = new ArrayList<>();
        query("SELECT line FROM events WHERE conversation_id = ? ORDER BY seq DESC LIMIT ?", ps -> {
            ps.setString(1, conversationId);
            ps.setInt(2, limit);
        }, rs -> newestFirst.add(event(rs.getString(1))));
        Collections.reverse(newestFirst);
        return newestFirst;
    }

    @Override
    public Optional<String> lastEventId(String conversationId) {
        Ids.require("conversation", conversationId);
        List<String> ids = new ArrayList<>(1);
        query("SELECT id FROM events WHERE conversation_id = ? ORDER BY seq DESC LIMIT 1",
                ps -> ps.setString(1, conversationId), rs -> ids.add(rs.getString(1)));
        return ids.stream().findFirst();
    }

    @Override
    public Stream<Event> since(Instant instant) {
        EventQuery[] next = {new EventQuery(instant, null, null, Set.of(), null, STREAM_PAGE)};
        return pages(() -> {
            if (next[0] == null) {
                return List.of();
            }
            EventPage p = query(next[0]);
            next[0] = p.hasMore() && !p.events().isEmpty()
                    ? next[0].withAfter(p.events().getLast().id()) : null;
            return p.events();
        });
    }

    @Override
    public EventPage query(EventQuery q) {
        return page(null, q);
    }

    @Override
    public EventPage query(String conversationId, EventQuery q) {
        return page(Ids.require("conversation", conversationId), q);
    }

    /** One page in id order: the oldest matching (forward) or the newest (backward), listed oldest first. */
    private EventPage page(String conversationId, EventQuery q) {
        StringBuilder sql = new StringBuilder("SELECT line FROM events WHERE true");
        List<Binder> binds = new ArrayList<>();
        if (conversationId != null) {
            sql.append(" AND conversation_id = ?");
            binds.add((ps, i) -> ps.setString(i, conversationId));
        }
        if (q.since() != null) {
            sql.append(" AND ts_nanos >= ?");
            long since = nanos(q.since());
            binds.add((ps, i) -> ps.setLong(i, since));
        }
        if (q.after() != null) {
            sql.append(" AND id > ?");
            binds.add((ps, i) -> ps.setString(i, q.after()));
        }
        if (q.before() != null) {
            sql.append(" AND id < ?");
            binds.add((ps, i) -> ps.setString(i, q.before()));
        }
        typesAndVisibility(sql, binds, q.types(), q.visibility());
        sql.append(q.forward() ? " ORDER BY id ASC" : " ORDER BY id DESC").append(" LIMIT ").append(q.limit() + 1L);
        List<Event> events = new ArrayList<>();
        query(sql.toString(), ps -> bind(ps, binds), rs -> events.add(event(rs.getString(1))));
        boolean more = events.size() > q.limit();
        if (more) {
            events.removeLast();
        }
        if (!q.forward()) {
            Collections.reverse(events);
        }
        return new EventPage(events, more);
    }

    @Override
    public Stream<Event> byType(Set<EventType> types, Visibility visibility) {
        String[] afterConversation = {""};
        long[] afterSeq = {0};
        return pages(() -> {
            StringBuilder sql = new StringBuilder("SELECT conversation_id, seq, line FROM events"
                    + " WHERE (conversation_id, seq) > (?, ?)");
            List<Binder> binds = new ArrayList<>();
            binds.add((ps, i) -> ps.setString(i, afterConversation[0]));
            binds.add((ps, i) -> ps.setLong(i, afterSeq[0]));
            typesAndVisibility(sql, binds, types, visibility);
            sql.append(" ORDER BY conversation_id, seq LIMIT ").append(STREAM_PAGE);
            List<Event> page = new ArrayList<>();
            query(sql.toString(), ps -> bind(ps, binds), rs -> {
                afterConversation[0] = rs.getString(1);
                afterSeq[0] = rs.getLong(2);
                page.add(event(rs.getString(3)));
            });
            return page;
        });
    }

    @Override
    public List<String> conversationIds() {
        List<String> ids = new ArrayList<>();
        query("SELECT id FROM conversations ORDER BY id", ps -> { }, rs -> ids.add(rs.getString(1)));
        return ids;
    }

    @Override
    public boolean exists(String conversationId) {
        Ids.require("conversation", conversationId);
        List<Boolean> found = new ArrayList<>(1);
        query("SELECT 1 FROM conversations WHERE id = ?", ps -> ps.setString(1, conversationId),
                rs -> found.add(true));
        return !found.isEmpty();
    }

    /** Moves the conversation's events to {@code archived_events} in one transaction; {@code archiveDir} is unused. */
    @Override
    public boolean archive(String conversationId, Path archiveDir) {
        Ids.require("conversation", conversationId);
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO archived_events (seq, id, conversation_id,"
                        + " type, visibility, ts_nanos, line) SELECT seq, id, conversation_id, type, visibility, ts_nanos,"
                        + " line FROM events WHERE conversation_id = ?")) {
                    ps.setString(1, conversationId);
                    ps.executeUpdate();
                }
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM events WHERE conversation_id = ?")) {
                    ps.setString(1, conversationId);
                    ps.executeUpdate();
                }
                int removed;
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM conversations WHERE id = ?")) {
                    ps.setString(1, conversationId);
                    removed = ps.executeUpdate();
                }
                c.commit();
                return removed > 0;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new StoreException("cannot archive conversation " + conversationId + " in PostgreSQL at " + where
                    + ": " + StoreException.reason(e), e);
        }
    }

    /**
     * Not writable while commits fail, or the database did not answer the last check (with the reason). The
     * database is asked at most once a second (a connection from the pool, checked), so a replica whose database
     * is gone turns unready ({@code /readyz} 503) without waiting for a turn to fail; a failure is forgotten once
     * the database answers again.
     */
    @Override
    public LogHealth health() {
        long now = System.nanoTime();
        if (now - lastProbeNanos > 1_000_000_000L) {
            lastProbeNanos = now;
            try (Connection c = ds.getConnection()) {
                if (c.isValid(1)) {
                    writer.clearFailure();
                    probeFailure = null;
                } else {
                    probeFailure = "the connection check timed out";
                }
            } catch (SQLException e) {
                probeFailure = StoreException.reason(e);
            }
        }
        String failure = writer.failure() != null ? writer.failure() : probeFailure;
        return failure == null ? LogHealth.OK
                : new LogHealth(false, "PostgreSQL at " + where + " cannot take appends: " + failure);
    }

    @Override
    public void onFsync(LongConsumer listener) {
        writer.onCommit(listener);
    }

    @Override
    public boolean shared() {
        return true;
    }

    /** Commits what is queued; the pool is closed by the store. */
    @Override
    public void close() {
        writer.close();
    }

    // ---- rows ----------------------------------------------------------------------------------------------------

    static long nanos(Instant t) {
        return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000_000L), t.getNano());
    }

    private static String line(Event e) {
        StringWriter out = new StringWriter(256);
        try (JsonWriter w = WRITERS.createWriter(out)) {
            w.write(e.toJson());
        }
        return out.toString();
    }

    private static Event event(String line) {
        try (JsonReader r = READERS.createReader(new StringReader(line))) {
            return Event.fromJson(r.readObject());
        }
    }

    private static void typesAndVisibility(StringBuilder sql, List<Binder> binds, Set<EventType> types,
                                           Visibility visibility) {
        if (types != null && !types.isEmpty()) {
            sql.append(" AND type IN (").append(String.join(", ", Collections.nCopies(types.size(), "?"))).append(')');
            for (EventType t : types.stream().sorted().toList()) {
                binds.add((ps, i) -> ps.setString(i, t.name()));
            }
        }
        if (visibility != null) {
            sql.append(" AND visibility = ?");
            binds.add((ps, i) -> ps.setString(i, visibility.wireName()));
        }
    }

    private static void bind(PreparedStatement ps, List<Binder> binds) throws SQLException {
        for (int i = 0; i < binds.size(); i++) {
            binds.get(i).bind(ps, i + 1);
        }
    }

    private interface Binder {
        void bind(PreparedStatement ps, int index) throws SQLException;
    }

    interface Params {
        void set(PreparedStatement ps) throws SQLException;
    }

    interface Statements {
        void run(String sql, Params params);
    }

    void observe(Statements o) {
        observer = o;
    }

    private interface Row {
        void read(ResultSet rs) throws SQLException;
    }

    private void query(String sql, Params params, Row row) {
        observer.run(sql, params);
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            params.set(ps);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    row.read(rs);
                }
            }
        } catch (SQLException e) {
            throw new StoreException("cannot read events from PostgreSQL at " + where + ": "
                    + StoreException.reason(e), e);
        }
    }

    /** A lazy stream of pages, each fetched when the one before is used up; an empty page ends it. */
    private static Stream<Event> pages(java.util.function.Supplier<List<Event>> nextPage) {
        Iterator<Event> events = new Iterator<>() {
            private Iterator<Event> page = Collections.emptyIterator();
            private boolean done;

            @Override
            public boolean hasNext() {
                while (!page.hasNext() && !done) {
                    List<Event> p = nextPage.get();
                    done = p.isEmpty();
                    page = p.iterator();
                }
                return page.hasNext();
            }

            @Override
            public Event next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return page.next();
            }
        };
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(events,
                Spliterator.ORDERED | Spliterator.NONNULL), false);
    }
}
