package io.streamingllm.store.postgres;

import io.streamingllm.core.Ids;
import io.streamingllm.core.summary.Summary;
import io.streamingllm.core.summary.SummaryRepository;
import io.streamingllm.core.summary.SummaryStore;
import io.streamingllm.core.summary.TamperedSummaryException;

import javax.sql.DataSource;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;

/**
 * Summaries in PostgreSQL (table {@code summaries}, one row per conversation, replaced whole; committed before
 * {@link #write} returns). A row whose content does not hash to its ref reads as tampered, as a file does.
 * Thread-safe.
 */
final class PgSummaries implements SummaryRepository {
    private final DataSource ds;
    private final String where;

    PgSummaries(DataSource ds, String where) {
        this.ds = ds;
        this.where = where;
    }

    @Override
    public Summary write(String conversationId, String content) {
        Ids.require("conversation", conversationId);
        if (content == null) {
            throw new IllegalArgumentException("summary content is missing");
        }
        String ref = SummaryStore.sha256Hex(content);
        update("INSERT INTO summaries (conversation_id, summary_ref, content) VALUES (?, ?, ?) ON CONFLICT"
                + " (conversation_id) DO UPDATE SET summary_ref = excluded.summary_ref, content = excluded.content,"
                + " updated_at = now()", conversationId, ref, content);
        return new Summary(conversationId, ref, content);
    }

    @Override
    public Optional<Summary> read(String conversationId) {
        Ids.require("conversation", conversationId);
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT summary_ref, content FROM summaries WHERE conversation_id = ?")) {
            ps.setString(1, conversationId);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                String ref = rs.getString(1);
                String content = rs.getString(2);
                String actual = SummaryStore.sha256Hex(content);
                if (!actual.equals(ref)) {
                    throw new TamperedSummaryException("summary of " + conversationId + " was modified in the database:"
                            + " its summary_ref is " + ref + " but the content hashes to " + actual);
                }
                return Optional.of(new Summary(conversationId, ref, content));
            }
        } catch (SQLException e) {
            throw failed("read the summary of " + conversationId, e);
        }
    }

    @Override
    public boolean exists(String conversationId) {
        Ids.require("conversation", conversationId);
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
                "SELECT 1 FROM summaries WHERE conversation_id = ?")) {
            ps.setString(1, conversationId);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next();
            }
        } catch (SQLException e) {
            throw failed("read the summary of " + conversationId, e);
        }
    }

    /** Moves the row to {@code archived_summaries}; {@code archiveDir} is unused. */
    @Override
    public boolean archive(String conversationId, Path archiveDir) {
        Ids.require("conversation", conversationId);
        return update("WITH gone AS (DELETE FROM summaries WHERE conversation_id = ? RETURNING conversation_id,"
                + " summary_ref, content) INSERT INTO archived_summaries (conversation_id, summary_ref, content)"
                + " SELECT conversation_id, summary_ref, content FROM gone", conversationId) > 0;
    }

    private int update(String sql, String... params) {
        try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                ps.setString(i + 1, params[i]);
            }
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw failed("write a summary", e);
        }
    }

    private StoreException failed(String what, SQLException e) {
        return new StoreException("cannot " + what + " in PostgreSQL at " + where + ": " + StoreException.reason(e), e);
    }
}
