package io.streamingllm.store.postgres;

import io.streamingllm.core.config.DatabaseConfig;
import io.streamingllm.core.config.SidecarConfig;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.UUID;

/**
 * A fresh database of its own on the PostgreSQL at 127.0.0.1:5432 (trust authentication, user postgres, else root),
 * created for one test class and dropped after it (with whatever connections are left), so runs never see each
 * other's rows. Fails with a line saying how to start PostgreSQL when none answers.
 */
public final class TestDatabase implements AutoCloseable {
    public static final String HOST = "127.0.0.1:5432";
    private final String user;
    private final String name;

    private TestDatabase(String user, String name) {
        this.user = user;
        this.name = name;
    }

    public static TestDatabase create() {
        String name = "sllm_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        SQLException last = null;
        for (String user : new String[] {"postgres", "root"}) {
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + HOST + "/postgres", user, "");
                 Statement s = c.createStatement()) {
                s.execute("CREATE DATABASE " + name);
                return new TestDatabase(user, name);
            } catch (SQLException e) {
                last = e;
            }
        }
        throw new IllegalStateException("no PostgreSQL with trust authentication answers at " + HOST + " ("
                + (last == null ? "" : last.getMessage()) + "); start one: service postgresql start", last);
    }

    /** {@code postgresql://user@127.0.0.1:5432/name}: the STREAMING_LLM_DATABASE_URL of this database. */
    public String url() {
        return "postgresql://" + user + "@" + HOST + "/" + name;
    }

    public String jdbcUrl() {
        return "jdbc:postgresql://" + HOST + "/" + name;
    }

    public String user() {
        return user;
    }

    public DatabaseConfig config() {
        return SidecarConfig.fromEnv(Map.of("STREAMING_LLM_MODEL", "echo", SidecarConfig.DATABASE_URL, url()))
                .database().orElseThrow();
    }

    /** A plain connection (autocommit) to this database, for checks behind the store's back. */
    public Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl(), user, "");
    }

    @Override
    public void close() throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + HOST + "/postgres", user, "");
             Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        }
    }
}
