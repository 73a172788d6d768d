package io.streamingllm.deploy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** One interpolated service definition of a {@link ComposeProject}. */
public final class ComposeService {
    /** One {@code env_file} entry, path resolved against the project directory. */
    public record EnvFile(Path path, boolean required) {
    }

    private final String name;
    private final Map<String, Object> def;
    private final Path projectDir;
    private final Map<String, String> shellEnv;
    private final Set<String> hidden;

    ComposeService(String name, Map<String, Object> def, Path projectDir, Map<String, String> shellEnv, Set<String> hidden) {
        this.name = name;
        this.def = def;
        this.projectDir = projectDir;
        this.shellEnv = shellEnv;
        this.hidden = hidden;
    }

    public String name() {
        return name;
    }

    public Optional<String> image() {
        return Optional.ofNullable(def.get("image")).map(Object::toString);
    }

    public Optional<Path> workingDir() {
        return Optional.ofNullable(def.get("working_dir")).map(o -> Path.of(o.toString()));
    }

    /** {@code entrypoint} followed by {@code command}, each a list or a shell-split string. */
    public List<String> commandLine() {
        List<String> out = new ArrayList<>(words(def.get("entrypoint")));
        out.addAll(words(def.get("command")));
        return out;
    }

    private static List<String> words(Object o) {
        if (o == null) {
            return List.of();
        }
        if (o instanceof List<?> l) {
            return l.stream().map(String::valueOf).toList();
        }
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        char quote = 0;
        boolean inWord = false;
        for (char c : o.toString().toCharArray()) {
            if (quote != 0) {
                if (c == quote) {
                    quote = 0;
                } else {
                    cur.append(c);
                }
            } else if (c == '"' || c == '\'') {
                quote = c;
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    out.add(cur.toString());
                    cur.setLength(0);
                    inWord = false;
                }
            } else {
                cur.append(c);
                inWord = true;
            }
        }
        if (inWord) {
            out.add(cur.toString());
        }
        return out;
    }

    public List<EnvFile> envFiles() {
        Object o = def.get("env_file");
        List<Object> entries = o == null ? List.of() : o instanceof List<?> l ? new ArrayList<>(l) : List.of(o);
        List<EnvFile> out = new ArrayList<>();
        for (Object e : entries) {
            if (e instanceof Map<?, ?> m) {
                if (m.get("path") == null) {
                    throw new ComposeException("env_file entry " + m + " has no path");
                }
                Object required = m.get("required");
                out.add(new EnvFile(projectDir.resolve(m.get("path").toString()).normalize(),
                        required == null || Boolean.parseBoolean(required.toString())));
            } else {
                out.add(new EnvFile(projectDir.resolve(String.valueOf(e)).normalize(), true));
            }
        }
        return out;
    }

    /**
     * The container's environment as compose builds it: env files in order (later wins), then
     * {@code environment} over them; a bare {@code KEY} (or {@code KEY:} with no value) takes the
     * shell's value or stays unset. The image's own ENV is not modelled.
     */
    public Map<String, String> containerEnvironment() {
        Map<String, String> env = new LinkedHashMap<>();
        for (EnvFile f : envFiles()) {
            if (Files.isRegularFile(f.path())) {
                Map<String, String> vars = DotEnv.read(f.path());
                vars.keySet().removeAll(hidden);
                env.putAll(vars);
            } else if (f.required()) {
                throw new ComposeException("env file " + f.path() + " not found (required)");
            }
        }
        Object o = def.get("environment");
        if (o instanceof Map<?, ?> m) {
            m.forEach((k, v) -> put(env, k.toString(), v == null ? null : scalar(v)));
        } else if (o instanceof List<?> l) {
            for (Object item : l) {
                String s = item.toString();
                int eq = s.indexOf('=');
                put(env, eq < 0 ? s : s.substring(0, eq), eq < 0 ? null : s.substring(eq + 1));
            }
        } else if (o != null) {
            throw new ComposeException("environment of " + name + ": expected a mapping or a list");
        }
        return env;
    }

    private void put(Map<String, String> env, String key, String value) {
        if (value != null) {
            env.put(key, value);
        } else if (shellEnv.containsKey(key)) {
            env.put(key, shellEnv.get(key));
        } else {
            env.remove(key);
        }
    }

    private static String scalar(Object v) {
        return v instanceof Double d && d == Math.rint(d) ? Long.toString(d.longValue()) : v.toString();
    }

    public List<PortMapping> ports() {
        List<PortMapping> out = new ArrayList<>();
        if (def.get("ports") instanceof List<?> l) {
            l.forEach(e -> out.addAll(PortMapping.parse(e)));
        }
        return out;
    }

    public List<Mount> mounts() {
        List<Mount> out = new ArrayList<>();
        if (def.get("volumes") instanceof List<?> l) {
            l.forEach(e -> out.add(Mount.parse(e, projectDir)));
        }
        return out;
    }

    /**
     * The host path a container path lives on: through the deepest bind mount containing it, or
     * empty when it is not on a bind mount (it would vanish with the container).
     */
    public Optional<Path> hostPathOf(Path containerPath) {
        Path p = containerPath.normalize();
        return mounts().stream()
                .filter(m -> m.hostPath() != null && p.startsWith(m.target()))
                .max(Comparator.comparingInt(m -> m.target().getNameCount()))
                .map(m -> m.hostPath().resolve(m.target().relativize(p)).normalize());
    }

    public Optional<Mount> mountOf(Path containerPath) {
        Path p = containerPath.normalize();
        return mounts().stream()
                .filter(m -> p.startsWith(m.target()))
                .max(Comparator.comparingInt(m -> m.target().getNameCount()));
    }

    /** {@code extra_hosts} as host name → address (list {@code host:ip} / {@code host=ip}, or mapping). */
    public Map<String, String> extraHosts() {
        Map<String, String> out = new LinkedHashMap<>();
        Object o = def.get("extra_hosts");
        if (o instanceof Map<?, ?> m) {
            m.forEach((k, v) -> out.put(k.toString(), String.valueOf(v)));
        } else if (o instanceof List<?> l) {
            for (Object e : l) {
                String s = e.toString();
                int sep = s.indexOf('=') >= 0 ? s.indexOf('=') : s.indexOf(':');
                if (sep <= 0) {
                    throw new ComposeException("extra_hosts entry \"" + s + "\": expected HOST:IP");
                }
                out.put(s.substring(0, sep), s.substring(sep + 1));
            }
        }
        return out;
    }

    /**
     * {@code depends_on} as service → condition: the long form's {@code condition}, {@code service_started} for
     * the short (list) form, as compose reads them.
     */
    public Map<String, String> dependsOn() {
        Map<String, String> out = new LinkedHashMap<>();
        Object o = def.get("depends_on");
        if (o instanceof List<?> l) {
            l.forEach(e -> out.put(e.toString(), "service_started"));
        } else if (o instanceof Map<?, ?> m) {
            m.forEach((k, v) -> out.put(k.toString(), v instanceof Map<?, ?> c && c.get("condition") != null
                    ? c.get("condition").toString() : "service_started"));
        }
        return out;
    }

    /** The health check command as compose would run it, or empty when there is none or it is disabled. */
    public Optional<List<String>> healthcheck() {
        if (!(def.get("healthcheck") instanceof Map<?, ?> h)) {
            return Optional.empty();
        }
        if (Boolean.parseBoolean(String.valueOf(h.get("disable")))) {
            return Optional.empty();
        }
        Object test = h.get("test");
        if (test instanceof String s) {
            return Optional.of(List.of("CMD-SHELL", s));
        }
        if (test instanceof List<?> l && !l.isEmpty() && !"NONE".equals(String.valueOf(l.get(0)))) {
            return Optional.of(l.stream().map(String::valueOf).toList());
        }
        return Optional.empty();
    }
}
