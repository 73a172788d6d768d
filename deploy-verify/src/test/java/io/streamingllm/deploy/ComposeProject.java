package io.streamingllm.deploy;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * A compose file as {@code docker compose config} would see it for one environment: parsed with
 * SnakeYAML, every string interpolated from the shell environment over the project {@code .env}
 * (the one next to the compose file), relative paths resolved against the file's directory.
 */
public final class ComposeProject {
    private final Path projectDir;
    private final Map<String, Object> model;
    private final Map<String, String> interpolationEnv;
    private final Set<String> hidden;

    private ComposeProject(Path projectDir, Map<String, Object> model, Map<String, String> interpolationEnv, Set<String> hidden) {
        this.projectDir = projectDir;
        this.model = model;
        this.interpolationEnv = interpolationEnv;
        this.hidden = hidden;
    }

    public static ComposeProject load(Path composeFile, Map<String, String> shellEnv) {
        return load(composeFile, shellEnv, Set.of());
    }

    /**
     * As {@link #load(Path, Map)}, as if the user had set none of {@code hidden} anywhere (shell,
     * project .env, env files): what the compose file itself supplies for them.
     */
    public static ComposeProject load(Path composeFile, Map<String, String> shellEnv, Set<String> hidden) {
        Path projectDir = composeFile.toAbsolutePath().getParent();
        Map<String, String> env = new HashMap<>();
        Path dotEnv = projectDir.resolve(".env");
        if (Files.isRegularFile(dotEnv)) {
            env.putAll(DotEnv.read(dotEnv));
        }
        env.putAll(shellEnv);
        env.keySet().removeAll(hidden);
        Object root;
        try (Reader r = Files.newBufferedReader(composeFile)) {
            root = new Yaml(new SafeConstructor(new LoaderOptions())).load(r);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (org.yaml.snakeyaml.error.YAMLException e) {
            throw new ComposeException("not valid YAML: " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (!(root instanceof Map<?, ?>)) {
            throw new ComposeException(composeFile.getFileName() + " is not a compose mapping");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> model = (Map<String, Object>) interpolateTree(root, new Interpolator(env));
        return new ComposeProject(projectDir, model, env, hidden);
    }

    private static Object interpolateTree(Object node, Interpolator interpolator) {
        if (node instanceof String s) {
            return interpolator.apply(s);
        }
        if (node instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, v) -> out.put(String.valueOf(k), interpolateTree(v, interpolator)));
            return out;
        }
        if (node instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            l.forEach(v -> out.add(interpolateTree(v, interpolator)));
            return out;
        }
        return node;
    }

    public Path projectDir() {
        return projectDir;
    }

    /** The named service, or null. */
    public ComposeService service(String name) {
        Object services = model.get("services");
        if (services instanceof Map<?, ?> m && m.get(name) instanceof Map<?, ?> s) {
            @SuppressWarnings("unchecked")
            Map<String, Object> def = (Map<String, Object>) s;
            return new ComposeService(name, def, projectDir, interpolationEnv, hidden);
        }
        return null;
    }
}
