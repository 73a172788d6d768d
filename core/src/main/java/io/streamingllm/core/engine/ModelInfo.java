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

    /** Whether {@code requested} names model {@code id}: the same name, {@code NAME} and {@code NAME:latest} alike. */
    public static boolean sameModel(String id, String requested) {
        return withTag(id).equals(withTag(requested));
    }

    /**
     * Refuses, for an engine that serves one model, a request that names another ({@link EngineException.Kind#MODEL_NOT_FOUND},
     * which the server answers with 404 since the request named it). {@code served} are the names the model
     * answers to.
     */
    public static void requireServed(GenerationOptions options, String... served) {
        String requested = options.model();
        if (requested == null || requested.isBlank()) {
            return;
        }
        for (String name : served) {
            if (sameModel(name, requested)) {
                return;
            }
        }
        throw new EngineException(EngineException.Kind.MODEL_NOT_FOUND, "model '" + requested
                + "' is not served here; this sidecar serves " + served[0]);
    }

    private static String withTag(String name) {
        int slash = name.lastIndexOf('/');
        return name.indexOf(':', slash + 1) >= 0 ? name : name + ":latest";
    }
}
