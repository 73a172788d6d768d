package io.streamingllm.local;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the shared test models (../shared/models from the repository); tests skip when absent. */
public final class SharedModels {
    private SharedModels() {
    }

    public static Path stories260K() {
        Path p = find("stories260K.gguf");
        assumeTrue(p != null, "skipped: stories260K.gguf not found under ../shared/models or /work/shared/models");
        return p;
    }

    private static Path find(String name) {
        Path cwd = Path.of("").toAbsolutePath();
        for (Path dir = cwd; dir != null; dir = dir.getParent()) {
            Path p = dir.resolve("shared/models").resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        Path p = Path.of("/work/shared/models", name);
        return Files.isRegularFile(p) ? p : null;
    }
}
