package io.streamingllm.local.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A test's own {@code main} in a child JVM with options this JVM was not started with (they are fixed per JVM). */
public final class ChildJvm {
    private ChildJvm() {
    }

    /**
     * Runs {@code main} with the Vector API module, {@code jvmOptions} and {@code args}, and returns what it
     * printed; fails the test when it does not end with exit code 0 within {@code timeoutSeconds}.
     */
    public static String run(Path dir, List<String> jvmOptions, Class<?> main, List<String> args, int timeoutSeconds)
            throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.addAll(List.of("--add-modules", "jdk.incubator.vector", "-cp", System.getProperty("java.class.path"),
                main.getName()));
        command.addAll(args);
        Path log = Files.createTempFile(dir, "child", ".log"); // a file, not a pipe: a child that writes much cannot block on it
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean finished = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
        if (!finished) {
            p.destroyForcibly().waitFor();
        }
        String output = Files.readString(log, StandardCharsets.UTF_8);
        assertTrue(finished, "child JVM did not finish in " + timeoutSeconds + " s: " + output);
        assertEquals(0, p.exitValue(), output);
        return output;
    }
}
