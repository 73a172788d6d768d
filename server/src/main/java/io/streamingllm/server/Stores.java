package io.streamingllm.server;

import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.store.Store;
import io.streamingllm.store.postgres.PostgresStore;

/**
 * Which store the sidecar keeps its state in: PostgreSQL when {@code STREAMING_LLM_DATABASE_URL} is set (replicas
 * share it), otherwise the files under the data directories (the default, one process).
 */
final class Stores {
    private Stores() {
    }

    static Store open(SidecarConfig config) {
        return config.database().isPresent() ? PostgresStore.open(config) : Store.files(config);
    }
}
