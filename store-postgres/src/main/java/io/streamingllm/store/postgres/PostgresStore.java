package io.streamingllm.store.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.streamingllm.core.config.DatabaseConfig;
import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.store.Store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The sidecar's state in PostgreSQL ({@code STREAMING_LLM_DATABASE_URL}), shared by its replicas: a HikariCP pool, the
 * schema brought up to date at start-up ({@link Migrations}), events with group commit ({@link PgEventStore}),
 * summaries ({@link PgSummaries}), agents seeded from {@code AGENTS_DIR} ({@link PgAgents}) and cross-replica turn
 * locks ({@link AdvisoryTurnLocks}). The password goes to the driver only; no message carries it.
 */
public final class PostgresStore {
    /** Pool size: appends use one connection per commit, reads one per query; turn locks have their own. */
    static final int POOL_SIZE = 8;
    /** HikariCP says "Starting…" and "Start completed." at INFO on every start; kept so the level is not lost. */
    private static final Logger HIKARI = Logger.getLogger("com.zaxxer.hikari");

    private PostgresStore() {
    }

    /**
     * Connects, migrates, seeds the agents and returns the store; throws {@link StoreException} (one line naming the
     * database, never the password) when the database cannot be reached or refuses.
     */
    public static Store open(SidecarConfig config) {
        DatabaseConfig db = config.database().orElseThrow(() -> new IllegalArgumentException(
                SidecarConfig.DATABASE_URL + " is not set"));
        return open(db, config.agentsDir(), config.logRetry());
    }

    public static Store open(DatabaseConfig db, Path agentsDir, Duration writeRetry) {
        HIKARI.setLevel(Level.WARNING);
        // one connection first, with the driver's own message when it fails (the pool would log a stack trace)
        try (Connection probe = connect(db)) {
            probe.isValid(5);
        } catch (SQLException e) {
            throw new StoreException("cannot connect to PostgreSQL at " + db.where() + ": " + StoreException.reason(e), e);
        }
        HikariDataSource ds = new HikariDataSource(hikari(db));
        AdvisoryTurnLocks locks = null;
        try {
            Migrations.apply(ds);
            PgAgents agents = new PgAgents(ds, db.where());
            agents.seed(agentsDir);
            locks = new AdvisoryTurnLocks(() -> {
                try {
                    return connect(db);
                } catch (SQLException e) {
                    throw new StoreException("cannot connect to PostgreSQL at " + db.where() + ": "
                            + StoreException.reason(e), e);
                }
            });
            return new Store(new PgEventStore(ds, db.where(), writeRetry), new PgSummaries(ds, db.where()), agents,
                    locks, ds);
        } catch (RuntimeException e) {
            if (locks != null) {
                locks.close();
            }
            ds.close();
            throw e;
        }
    }

    private static HikariConfig hikari(DatabaseConfig db) {
        HikariConfig h = new HikariConfig();
        h.setPoolName("streaming-llm-store");
        h.setJdbcUrl(db.jdbcUrl());
        if (!db.user().isEmpty()) {
            h.setUsername(db.user());
        }
        if (!db.password().isEmpty()) {
            h.setPassword(db.password().value());
        }
        h.setMaximumPoolSize(POOL_SIZE);
        h.setConnectionTimeout(5_000);
        h.setDataSourceProperties(driverProperties());
        return h;
    }

    private static Connection connect(DatabaseConfig db) throws SQLException {
        Properties p = driverProperties();
        if (!db.user().isEmpty()) {
            p.setProperty("user", db.user());
        }
        if (!db.password().isEmpty()) {
            p.setProperty("password", db.password().value());
        }
        return DriverManager.getConnection(db.jdbcUrl(), p);
    }

    private static Properties driverProperties() {
        Properties p = new Properties();
        p.setProperty("ApplicationName", "streaming-llm");
        p.setProperty("tcpKeepAlive", "true");
        p.setProperty("connectTimeout", "5");
        return p;
    }
}
