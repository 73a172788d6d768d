package io.streamingllm.deploy;

import java.nio.file.Path;
import java.util.Map;

/**
 * A service volume. {@code hostPath} is the resolved host directory of a bind mount (null for a
 * named volume or tmpfs, whose name or type is in {@code source}); {@code target} is the absolute
 * path inside the container.
 */
public record Mount(String type, String source, Path hostPath, Path target, boolean readOnly) {

    /** Short syntax {@code SOURCE:TARGET[:MODE]} or long syntax, relative sources against {@code projectDir}. */
    public static Mount parse(Object entry, Path projectDir) {
        if (entry instanceof String s) {
            String[] parts = s.split(":");
            if (parts.length == 1) {
                return new Mount("volume", null, null, containerPath(parts[0], s), false);
            }
            if (parts.length > 3) {
                throw new ComposeException("invalid volume \"" + s + "\"");
            }
            boolean ro = parts.length == 3 && java.util.Arrays.asList(parts[2].split(",")).contains("ro");
            return of(parts[0], containerPath(parts[1], s), ro, projectDir);
        }
        if (entry instanceof Map<?, ?> m) {
            String type = String.valueOf(m.get("type"));
            Object target = m.get("target");
            if (target == null) {
                throw new ComposeException("volume " + m + " has no target");
            }
            boolean ro = Boolean.parseBoolean(String.valueOf(m.get("read_only")));
            String source = m.get("source") == null ? null : m.get("source").toString();
            Path t = containerPath(target.toString(), m.toString());
            if (type.equals("bind")) {
                return new Mount("bind", source, projectDir.resolve(source).normalize(), t, ro);
            }
            return new Mount(type, source, null, t, ro);
        }
        throw new ComposeException("volume " + entry + ": expected a string or a mapping");
    }

    private static Mount of(String source, Path target, boolean ro, Path projectDir) {
        boolean bind = source.startsWith(".") || source.startsWith("/") || source.startsWith("~");
        if (!bind) {
            return new Mount("volume", source, null, target, ro);
        }
        Path host = source.startsWith("~")
                ? Path.of(System.getProperty("user.home") + source.substring(1))
                : projectDir.resolve(source);
        return new Mount("bind", source, host.normalize(), target, ro);
    }

    private static Path containerPath(String p, String whole) {
        if (!p.startsWith("/")) {
            throw new ComposeException("volume \"" + whole + "\": the container path must be absolute");
        }
        return Path.of(p).normalize();
    }
}
