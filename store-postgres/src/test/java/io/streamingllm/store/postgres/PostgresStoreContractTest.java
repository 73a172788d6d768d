package io.streamingllm.store.postgres;

import io.streamingllm.core.store.Store;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** The contract over PostgreSQL: one fresh database for the class, emptied before each test. */
class PostgresStoreContractTest extends StoreContract {
    static TestDatabase db;

    @BeforeAll
    static void createDatabase() {
        db = TestDatabase.create();
    }

    @AfterAll
    static void dropDatabase() throws Exception {
        db.close();
    }

    @Override
    Store open(Path dir, Path agentsDir) throws Exception {
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            s.execute("DO $$ BEGIN IF to_regclass('events') IS NOT NULL THEN TRUNCATE events, conversations,"
                    + " summaries, agents, archived_events, archived_summaries; END IF; END $$");
        }
        return PostgresStore.open(db.config(), agentsDir, Duration.ofSeconds(5));
    }
}
