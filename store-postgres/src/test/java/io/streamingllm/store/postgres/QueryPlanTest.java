package io.streamingllm.store.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamingllm.core.log.EventQuery;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.log.Visibility;
import io.streamingllm.core.store.Store;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every query the event routes and the sessions make is served by an index, never by reading the whole events
 * table: the statements the store runs are captured and explained, over 200 conversations of 200 events.
 */
class QueryPlanTest {
    static TestDatabase db;
    static final int CONVERSATIONS = 200;
    static final int EACH = 200;

    @TempDir
    static Path dir;

    @BeforeAll
    static void fill() throws Exception {
        db = TestDatabase.create();
        PostgresStore.open(db.config(), dir.resolve("agents"), Duration.ofSeconds(1)).close(); // the schema
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO conversations (id) SELECT 'c' || lpad(k::text, 4, '0') FROM generate_series(1, "
                    + CONVERSATIONS + ") k");
            // ids ordered as time goes on; every fourth event internal, a few errors
            s.execute("INSERT INTO events (id, conversation_id, type, visibility, ts_nanos, line)"
                    + " SELECT 'e' || lpad(n::text, 8, '0'), 'c' || lpad((n % " + CONVERSATIONS + " + 1)::text, 4, '0'),"
                    + " t, lower(v), 1700000000000000000 + n::bigint * 1000000,"
                    + " format('{\"id\":\"%s\",\"conversation_id\":\"%s\",\"type\":\"%s\",\"timestamp\":\"%s\","
                    + "\"visibility\":\"%s\",\"payload\":{}}', 'e' || lpad(n::text, 8, '0'),"
                    + " 'c' || lpad((n % " + CONVERSATIONS + " + 1)::text, 4, '0'), t,"
                    + " to_char(to_timestamp(1700000000 + n / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'),"
                    + " lower(v))"
                    + " FROM (SELECT n, CASE WHEN n % 997 = 0 THEN 'ERROR' WHEN n % 2 = 0 THEN 'USER_MESSAGE'"
                    + " ELSE 'ASSISTANT_MESSAGE' END AS t, CASE WHEN n % 4 = 0 THEN 'INTERNAL' ELSE 'USER' END AS v"
                    + " FROM generate_series(1, " + CONVERSATIONS * EACH + ") n) g");
            s.execute("ANALYZE");
        }
    }

    @AfterAll
    static void drop() throws Exception {
        db.close();
    }

    record Explained(String sql, String plan) {
    }

    @Test
    void everyReadUsesAnIndex() throws Exception {
        List<Explained> plans = new ArrayList<>();
        try (Store store = PostgresStore.open(db.config(), dir.resolve("agents"), Duration.ofSeconds(1));
             Connection c = db.connect()) {
            PgEventStore events = (PgEventStore) store.events();
            events.observe((sql, params) -> {
                try (PreparedStatement ps = c.prepareStatement("EXPLAIN " + sql)) {
                    params.set(ps);
                    StringBuilder plan = new StringBuilder();
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            plan.append(rs.getString(1)).append('\n');
                        }
                    }
                    plans.add(new Explained(sql, plan.toString()));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Instant late = Instant.ofEpochSecond(1700000000L + CONVERSATIONS * EACH / 1000 - 5);
            assertEquals(10, events.tail("c0050", 10).size());
            try (Stream<?> read = events.read("c0050")) {
                assertEquals(EACH, read.count());
            }
            assertTrue(events.lastEventId("c0050").isPresent());
            assertEquals(20, events.query(EventQuery.latest(20)).events().size());
            assertEquals(20, events.query(EventQuery.latest(20).withBefore("e00030000")).events().size());
            assertEquals(20, events.query(new EventQuery(late, null, null, Set.of(), null, 20)).events().size());
            assertEquals(20, events.query(EventQuery.latest(20).withAfter("e00010000")).events().size());
            assertFalse(events.query(EventQuery.latest(20).withTypes(EnumSet.of(EventType.ERROR))).events().isEmpty());
            assertEquals(20, events.query(EventQuery.latest(20).withVisibility(Visibility.INTERNAL)).events().size());
            assertEquals(5, events.query("c0050", EventQuery.latest(5)).events().size());
            assertEquals(5, events.query("c0050", EventQuery.latest(5).withAfter("e00020000")).events().size());
            try (Stream<?> errors = events.byType(Set.of(EventType.ERROR), null)) {
                assertEquals(CONVERSATIONS * EACH / 997, errors.count());
            }
            try (Stream<?> first = events.byType(Set.of(), null)) {
                assertEquals(1000, first.limit(1000).count());
            }
            assertTrue(events.exists("c0001"));
        }
        assertTrue(plans.size() >= 13, plans.size() + " statements");
        for (Explained e : plans) {
            assertFalse(e.plan().contains("Seq Scan on events"), e.sql() + "\n" + e.plan());
        }
    }
}
