package io.streamingllm.store.postgres;

import io.streamingllm.core.Ids;
import io.streamingllm.core.agent.Agent;
import io.streamingllm.core.agent.AgentRepository;
import io.streamingllm.core.agent.AgentStore;

import javax.sql.DataSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Agents in PostgreSQL (table {@code agents}): each agent's whole markdown document, front matter and body, as its
 * file would hold it, parsed by the files' own parser ({@link AgentStore#fromMarkdown}) on every read, so a PUT or
 * DELETE on one replica is what every replica reads next, and any front matter field round-trips without a schema
 * change. A deleted agent keeps a row marked deleted, so the seeding from {@code AGENTS_DIR} at start-up
 * ({@link #seed}) never brings it back. Thread-safe.
 */
final class PgAgents implements AgentRepository {
    private static final System.Logger LOG = System.getLogger(PgAgents.class.getName());

    private final DataSource ds;
    private final String where;

    PgAgents(DataSource ds, String where) {
        this.ds = ds;
        this.where = where;
    }

    /**
     * Adds every agent file of {@code agentsDir} (with the built-in seeds, as the files store writes them) that the
     * database has never had; agents edited or deleted through the API stay as they are. Returns how many were added.
     */
    int seed(Path agentsDir) {
        AgentStore files = new AgentStore(agentsDir); // writes the built-in seeds when absent, skips malformed files
        int added = 0;
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO agents (id, document) VALUES (?, ?) ON CONFLICT (id) DO NOTHING")) {
            for (Agent a : files.list()) {
                String document;
                try {
                    document = Files.readString(files.directory().resolve(a.id() + ".md"), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    document = AgentStore.toMarkdown(a);
                }
                ps.setString(1, a.id());
                ps.setString(2, document);
                added += ps.executeUpdate();
            }
        } catch (SQLException e) {
            throw failed("seed the agents", e);
        }
        return added;
    }

    @Override
    public List<Agent> list() {
        List<Agent> agents = new ArrayList<>();
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT id, document FROM agents WHERE deleted_at IS NULL ORDER BY id");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                parse(rs.getString(1), rs.getString(2)).ifPresent(agents::add);
            }
        } catch (SQLException e) {
            throw failed("list the agents", e);
        }
        return agents;
    }

    @Override
    public Optional<Agent> get(String id) {
        Ids.require("agent", id);
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT document FROM agents WHERE id = ? AND deleted_at IS NULL")) {
            ps.setString(1, id);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? parse(id, rs.getString(1)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw failed("read agent " + id, e);
        }
    }

    @Override
    public Agent upsert(Agent agent) {
        Agent clean = AgentStore.clean(agent);
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "INSERT INTO agents (id, document) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET"
                        + " document = excluded.document, updated_at = now(), deleted_at = NULL")) {
            ps.setString(1, clean.id());
            ps.setString(2, AgentStore.toMarkdown(clean));
            ps.executeUpdate();
        } catch (SQLException e) {
            throw failed("write agent " + clean.id(), e);
        }
        return clean;
    }

    @Override
    public boolean delete(String id) {
        Ids.require("agent", id);
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "UPDATE agents SET deleted_at = now(), document = NULL, updated_at = now()"
                        + " WHERE id = ? AND deleted_at IS NULL")) {
            ps.setString(1, id);
            return ps.executeUpdate() > 0;
        } catch (SQLException e) {
            throw failed("delete agent " + id, e);
        }
    }

    /** A stored document that no longer parses is skipped with a warning, as a malformed file is. */
    private static Optional<Agent> parse(String id, String document) {
        try {
            return Optional.of(AgentStore.fromMarkdown(document, id));
        } catch (IllegalArgumentException e) {
            LOG.log(System.Logger.Level.WARNING, "agents: skipping " + id + " in the database: " + e.getMessage());
            return Optional.empty();
        }
    }

    private StoreException failed(String what, SQLException e) {
        return new StoreException("cannot " + what + " in PostgreSQL at " + where + ": " + StoreException.reason(e), e);
    }
}
