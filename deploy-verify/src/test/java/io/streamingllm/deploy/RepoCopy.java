package io.streamingllm.deploy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.UnaryOperator;

/** Copies the deployment files of the real repository into a temp dir, to check them or break them. */
final class RepoCopy {
    static final List<String> FILES = List.of(Repo.RUN_SCRIPT, Repo.COMPOSE_FILE, Repo.ENV_TEMPLATE, Repo.README, Repo.TODO,
            Repo.SERVER_POM, "pom.xml", "deploy-verify/pom.xml", "core/pom.xml",
            "core/src/main/java/io/streamingllm/core/config/SidecarConfig.java",
            "data/logs/.gitkeep", "data/summaries/.gitkeep", "data/archive/.gitkeep");

    private RepoCopy() {
    }

    static Path of(Path tmp) {
        Path root = Repo.root();
        try {
            for (String f : FILES) {
                Path to = tmp.resolve(f);
                Files.createDirectories(to.getParent());
                Files.copy(root.resolve(f), to, java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return tmp;
    }

    /** Rewrites one file of a copy; fails when the edit changes nothing (the breakage must be real). */
    static void edit(Path copy, String file, UnaryOperator<String> change) {
        try {
            Path p = copy.resolve(file);
            String before = Files.readString(p);
            String after = change.apply(before);
            if (after.equals(before)) {
                throw new AssertionError("edit of " + file + " changed nothing");
            }
            Files.writeString(p, after);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
