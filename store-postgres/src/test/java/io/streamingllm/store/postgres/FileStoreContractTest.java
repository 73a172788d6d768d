package io.streamingllm.store.postgres;

import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.store.Store;
import java.nio.file.Path;
import java.util.Map;

/** The contract over the files (journal + JSONL, markdown summaries and agents): the default store. */
class FileStoreContractTest extends StoreContract {
    @Override
    Store open(Path dir, Path agentsDir) {
        return Store.files(SidecarConfig.fromEnv(Map.of("STREAMING_LLM_MODEL", "echo",
                SidecarConfig.DATA_DIR, dir.resolve("data").toString(),
                SidecarConfig.AGENTS_DIR, agentsDir.toString())));
    }
}
