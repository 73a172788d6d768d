package io.streamingllm.store.postgres;

import javax.sql.DataSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * The store's schema as a small versioned set of SQL scripts ({@code schema/V{n}__{name}.sql}), applied in order at
 * start-up, each once, recorded in {@code store_schema} with its checksum. All of it runs in one transaction under a
 * transaction-level advisory lock, so replicas starting together apply a version once and the others see it done;
 * PostgreSQL's DDL is transactional, so a failed script leaves nothing behind. A script changed after it was applied,
 * or a database at a version this sidecar does not know, stops start-up with a line saying so.
 *
 * <p>Why not Flyway: this is all of what the store needs from it, without its dependencies (Jackson, its own
 * logging) and its start-up time in every replica.
 */
final class Migrations {
    /** In order; append only: a released script is never edited (its checksum is checked). */
    static final List<String> SCRIPTS = List.of("V1__store.sql");
    /** The advisory lock key of migrations ("sllm-mig"). */
    private static final long LOCK_KEY = 0x736c6c6d2d6d6967L;

    private Migrations() {
    }

    /** Applies the scripts the database lacks; returns the schema version. */
    static int apply(DataSource ds) {
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try {
                int version = apply(c);
                c.commit();
                return version;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        } catch (SQLException e) {
            throw new StoreException("cannot migrate the database schema: " + StoreException.reason(e), e);
        }
    }

    private static int apply(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("SELECT pg_advisory_xact_lock(" + LOCK_KEY + ")");
            s.execute("CREATE TABLE IF NOT EXISTS store_schema (version integer PRIMARY KEY, name text NOT NULL,"
                    + " checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())");
        }
        Map<Integer, String> applied = new HashMap<>();
        int newest = 0;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT version, checksum FROM store_schema")) {
            while (rs.next()) {
                applied.put(rs.getInt(1), rs.getString(2));
                newest = Math.max(newest, rs.getInt(1));
            }
        }
        if (newest > SCRIPTS.size()) {
            throw new StoreException("the database schema is at version " + newest + ", newer than this sidecar knows ("
                    + SCRIPTS.size() + "): run a newer sidecar");
        }
        for (int i = 0; i < SCRIPTS.size(); i++) {
            int version = i + 1;
            String name = SCRIPTS.get(i);
            String sql = script(name);
            String sum = sha256(sql);
            String known = applied.get(version);
            if (known != null) {
                if (!known.equals(sum)) {
                    throw new StoreException("schema script " + name + " was changed after it was applied to this"
                            + " database (checksum " + known + ", now " + sum + ")");
                }
                continue;
            }
            try (Statement s = c.createStatement()) {
                s.execute(sql);
            }
            try (PreparedStatement ps = c.prepareStatement(
                    "INSERT INTO store_schema (version, name, checksum) VALUES (?, ?, ?)")) {
                ps.setInt(1, version);
                ps.setString(2, name);
                ps.setString(3, sum);
                ps.executeUpdate();
            }
        }
        return SCRIPTS.size();
    }

    private static String script(String name) {
        try (InputStream in = Migrations.class.getResourceAsStream("schema/" + name)) {
            if (in == null) {
                throw new IllegalStateException("schema script " + name + " is missing from the jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read schema script " + name + ": " + e.getMessage(), e);
        }
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
