package io.streamingllm.store.postgres;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamingllm.core.agent.Agent;
import io.streamingllm.core.config.DatabaseConfig;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.log.Event;
import io.streamingllm.core.log.EventType;
import io.streamingllm.core.log.Visibility;
import io.streamingllm.core.store.Store;
import jakarta.json.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What only the PostgreSQL store does: group commit, acknowledgement after commit, several processes on one database
 * (agents, turn locks that end with their connection), the schema, and start-up faults that name the database but
 * never the password.
 */
class PostgresStoreTest {
    static TestDatabase db;

    @TempDir
    Path dir;
    final List<Store> opened = new ArrayList<>();

    @BeforeAll
    static void createDatabase() {
        db = TestDatabase.create();
    }

    @AfterAll
    static void dropDatabase() throws Exception {
        db.close();
    }

    @BeforeEach
    void empty() throws Exception {
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            s.execute("DO $$ BEGIN IF to_regclass('events') IS NOT NULL THEN TRUNCATE events, conversations,"
                    + " summaries, agents, archived_events, archived_summaries; END IF; END $$");
        }
    }

    @AfterEach
    void closeAll() {
        opened.forEach(Store::close);
    }

    Store open() {
        Store s = PostgresStore.open(db.config(), dir.resolve("agents"), Duration.ofSeconds(2));
        opened.add(s);
        return s;
    }

    static Event user(String conversation, String content) {
        return Event.create(conversation, EventType.USER_MESSAGE, Visibility.USER,
                Json.createObjectBuilder().add("content", content).build());
    }

    @Test
    void concurrentAppendsShareCommits() throws Exception {
        Store store = open();
        AtomicInteger commits = new AtomicInteger();
        store.events().onFsync(nanos -> commits.incrementAndGet());
        int writers = 64;
        int each = 10;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                String conversation = "w" + w;
                done.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < each; i++) {
                        store.events().append(user(conversation, "m" + i));
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(writers * each, count("SELECT count(*) FROM events"));
        // one commit per append without group commit; waiting writers share one here
        assertTrue(commits.get() < writers * each / 2, commits.get() + " commits for " + writers * each + " appends");
    }

    @Test
    void anAppendIsAcknowledgedOnlyAfterItsTransactionCommits() throws Exception {
        Store store = open();
        store.events().append(user("held", "first"));
        try (Connection blocker = db.connect()) {
            blocker.setAutoCommit(false);
            try (Statement s = blocker.createStatement()) {
                s.execute("LOCK TABLE events IN EXCLUSIVE MODE"); // readers go on, writers wait
            }
            CompletableFuture<Event> append = CompletableFuture.supplyAsync(() -> store.events().append(user("held",
                    "second")));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (count("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
                    + " WHERE c.relname = 'events' AND NOT l.granted") == 0) {
                assertTrue(System.nanoTime() < deadline, "the append never reached the database");
                Thread.onSpinWait();
            }
            assertFalse(append.isDone(), "acknowledged before its transaction could commit");
            assertEquals(1, store.events().tail("held", 10).size());
            blocker.commit();
            Event second = append.get(20, TimeUnit.SECONDS);
            assertEquals(second, store.events().tail("held", 1).getFirst());
        }
    }

    @Test
    void twoReplicasSeeEachOthersEventsAndAgents() {
        Store a = open();
        Store b = open();
        Event e = a.events().append(user("shared", "hello"));
        assertEquals(List.of(e), b.events().tail("shared", 5));
        assertEquals(java.util.Optional.of(e.id()), b.events().lastEventId("shared"));

        a.agents().upsert(new Agent("coder", "Coder", "You write code.", "# Coder"));
        assertEquals("You write code.", b.agents().get("coder").orElseThrow().systemPrompt());
        assertTrue(b.agents().delete("coder"));
        assertEquals(java.util.Optional.empty(), a.agents().get("coder"));
        assertTrue(a.agents().delete("planner"));
        // a replica starting later seeds from its AGENTS_DIR, but never brings back what was deleted
        Store c = open();
        assertEquals(List.of("researcher"), c.agents().list().stream().map(Agent::id).toList());
    }

    @Test
    void agentsKeepTheirWholeDocumentSoUnknownFrontMatterRoundTrips() throws Exception {
        Path agents = Files.createDirectories(dir.resolve("agents"));
        String doc = "---\nid: tooled\nname: Tooled\nsystem_prompt: Use tools.\ntools:\n  - name: search\n"
                + "    description: web search\n---\n# Tooled\n";
        Files.writeString(agents.resolve("tooled.md"), doc);
        Store store = open();
        assertEquals("Use tools.", store.agents().get("tooled").orElseThrow().systemPrompt());
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement(
                "SELECT document FROM agents WHERE id = 'tooled'")) {
            try (ResultSet rs = ps.executeQuery()) {
                assertTrue(rs.next());
                assertEquals(doc, rs.getString(1));
            }
        }
    }

    @Test
    void aTurnLockIsHeldByOneReplicaAndEndsWithItsConnection() throws Exception {
        Store a = open();
        Store b = open();
        assertTrue(a.locks().tryLock("conv"));
        assertFalse(b.locks().tryLock("conv"));
        assertTrue(a.locks().tryLock("conv"), "held here already: a second hold in this process, counted");
        assertTrue(b.locks().tryLock("other"));
        a.locks().unlock("conv");
        assertFalse(b.locks().tryLock("conv"), "a still holds it once");
        a.locks().unlock("conv");
        assertTrue(b.locks().tryLock("conv"));
        assertFalse(a.locks().tryLock("conv"));
        // b's session dies (a replica killed, a lost node): the server ends its locks with it
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            s.execute("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    + " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())");
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!a.locks().tryLock("conv")) {
            assertTrue(System.nanoTime() < deadline, "the dead session's lock was never freed");
            Thread.onSpinWait();
        }
        // and b reconnects by itself: it can lock what nobody holds
        assertTrue(b.locks().tryLock("third"));
    }

    @Test
    void theSchemaIsAppliedOnceAndANewerOneIsRefused() throws Exception {
        open();
        open(); // a second replica finds it applied
        assertEquals(1, count("SELECT count(*) FROM store_schema"));
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            s.execute("INSERT INTO store_schema (version, name, checksum) VALUES (99, 'V99__future.sql', 'x')");
        }
        StoreException e = assertThrows(StoreException.class, this::open);
        assertEquals("the database schema is at version 99, newer than this"
                + " sidecar knows (1): run a newer sidecar", e.getMessage());
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            s.execute("DELETE FROM store_schema WHERE version = 99");
        }
    }

    @Test
    void aDatabaseThatGoesAwayMakesTheStoreUnhealthyAndAppendsFailClearly() throws Exception {
        TestDatabase doomed = TestDatabase.create();
        Store store;
        try {
            store = PostgresStore.open(doomed.config(), dir.resolve("agents"), Duration.ofMillis(300));
        } catch (RuntimeException e) {
            doomed.close();
            throw e;
        }
        try {
            assertTrue(store.events().health().writable());
            store.events().append(user("doomed", "before"));
            doomed.close(); // DROP DATABASE ... WITH (FORCE): every session of the store ends
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            io.streamingllm.core.log.LogHealth h;
            while ((h = store.events().health()).writable()) {
                assertTrue(System.nanoTime() < deadline, "the store never noticed its database was gone");
                Thread.onSpinWait();
            }
            assertTrue(h.detail().startsWith("PostgreSQL at " + TestDatabase.HOST + "/"), h.detail());
            io.streamingllm.core.log.LogWriteException e = assertThrows(io.streamingllm.core.log.LogWriteException.class,
                    () -> store.events().append(user("doomed", "after")));
            assertTrue(e.getMessage().startsWith("cannot append to log of conversation doomed in PostgreSQL at "),
                    e.getMessage());
        } finally {
            store.close();
        }
    }

    @Test
    void anUnreachableDatabaseIsOneLineWithoutThePassword() {
        DatabaseConfig unreachable = SidecarConfig.fromEnv(Map.of("STREAMING_LLM_MODEL", "echo",
                SidecarConfig.DATABASE_URL, "postgresql://app:s3cret-pw@127.0.0.1:1/sidecar")).database().orElseThrow();
        StoreException e = assertThrows(StoreException.class,
                () -> PostgresStore.open(unreachable, dir.resolve("agents"), Duration.ofSeconds(1)));
        assertTrue(e.getMessage().startsWith("cannot connect to PostgreSQL at 127.0.0.1:1/sidecar: "), e.getMessage());
        assertFalse(e.getMessage().contains("s3cret-pw"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void aWrongPasswordIsRefusedWithoutShowingIt() throws Exception {
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            s.execute("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sllm_nologin') THEN"
                    + " CREATE ROLE sllm_nologin NOLOGIN; END IF; END $$");
        }
        DatabaseConfig refused = SidecarConfig.fromEnv(Map.of("STREAMING_LLM_MODEL", "echo",
                SidecarConfig.DATABASE_URL, "postgresql://sllm_nologin@" + TestDatabase.HOST + "/postgres",
                SidecarConfig.DATABASE_PASSWORD, "hunter2-secret")).database().orElseThrow();
        StoreException e = assertThrows(StoreException.class,
                () -> PostgresStore.open(refused, dir.resolve("agents"), Duration.ofSeconds(1)));
        assertTrue(e.getMessage().contains("sllm_nologin"), e.getMessage());
        assertFalse(e.getMessage().contains("hunter2-secret"), e.getMessage());
    }

    private static long count(String sql) throws Exception {
        try (Connection c = db.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
