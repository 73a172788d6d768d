package io.streamingllm.core.engine;

import java.util.Objects;

/**
 * A model an engine can serve ({@code GET /v1/models}, {@code /api/tags}).
 *
 * @param id             the name requests use (e.g. {@code llama3.2:latest}, {@code Qwen/Qwen2.5-7B})
 * @param createdSeconds when the model was made or last modified, Unix seconds; 0 when unknown
 * @param ownedBy        who serves it (the upstream's {@code owned_by}, or the engine name)
 */
public record ModelInfo(String id, long createdSeconds, String ownedBy) {
    public ModelInfo {
        Objects.requireNonNull(id, "id");
        ownedBy = ownedBy == null ? "" : ownedBy;
    }
}
