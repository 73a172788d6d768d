package io.streamingllm.local.testing;

import io.streamingllm.local.gguf.GgmlType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Writes the random-weight test models (every architecture, every weight type) for the llama.cpp
 * cross-check (scripts/crosscheck-random-models.sh) and prints "name sha256" lines. The files are
 * deterministic: the tests regenerate them and compare against the recorded llama.cpp output.
 */
public final class WriteRandomModels {
    public static final long SEED = 7;
    public static final String[] ARCHITECTURES = {"llama", "qwen2", "qwen3", "gemma3"};

    public static String name(String arch, GgmlType type) {
        return "random-" + arch + "-" + type;
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Files.createDirectories(dir);
        for (String arch : ARCHITECTURES) {
            for (GgmlType type : GgmlType.values()) {
                Path file = dir.resolve(name(arch, type) + ".gguf");
                RandomModel.write(file, arch, type, SEED);
                System.out.println(name(arch, type) + " " + sha256(file));
            }
        }
    }

    public static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
