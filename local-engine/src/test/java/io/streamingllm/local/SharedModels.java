package io.streamingllm.local;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the test models kept in the repository's {@code models/} directory (see its README). */
public final class SharedModels {
    private SharedModels() {
    }

    /** {@code models/stories260K.gguf}, found from the working directory of any module upwards. */
    public static Path stories260K() {
        return find("stories260K.gguf");
    }

    private static Path find(String name) {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path p = dir.resolve("models").resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        throw new IllegalStateException(name + " not found in a models/ directory above " + Path.of("").toAbsolutePath()
                + ": it is part of the repository (models/README.md)");
    }
}
