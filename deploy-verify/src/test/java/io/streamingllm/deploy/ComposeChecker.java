package io.streamingllm.deploy;

import io.streamingllm.core.config.ConfigException;
import io.streamingllm.core.config.SidecarConfig;
import java.net.InetAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks the compose service {@code streaming-llm} of a repository (S27) in one {@link Scenario}:
 * writes the scenario's {@code .env.sidecar} into {@code repo} (so use a copy), resolves the
 * compose file as compose would, and returns the problems found (empty: the contract holds).
 */
public final class ComposeChecker {
    public static final String SERVICE = "streaming-llm";
    public static final int CONTAINER_PORT = 8000;
    private static final Pattern IMAGE_TAG = Pattern.compile("^(?:.*/)?([^/:@]+):(\\d+)[^/]*$");
    private static final Pattern JAVA_IMAGE = Pattern.compile("temurin|openjdk|jdk|jre|java|corretto|zulu|liberica|semeru|sapmachine");
    private static final Pattern LOCAL_TARGET = Pattern.compile("(?:127\\.0\\.0\\.1|localhost|\\[::1])[:/](\\d+)");

    private ComposeChecker() {
    }

    public static List<String> check(Path repo, Scenario scenario) {
        List<String> problems = new ArrayList<>();
        String in = " [" + scenario.name() + "]";
        Path composeFile = repo.resolve(Repo.COMPOSE_FILE);
        if (!Files.isRegularFile(composeFile)) {
            return List.of(Repo.COMPOSE_FILE + " is missing");
        }
        try {
            Path envSidecar = repo.resolve(Repo.ENV_FILE);
            Files.deleteIfExists(envSidecar);
            if (scenario.envSidecar() != null) {
                Files.writeString(envSidecar, scenario.envSidecar());
            }
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        ComposeService service;
        Map<String, String> env;
        try {
            service = ComposeProject.load(composeFile, scenario.shellEnv()).service(SERVICE);
            if (service == null) {
                return List.of("no service \"" + SERVICE + "\" in " + Repo.COMPOSE_FILE);
            }
            env = service.containerEnvironment();
        } catch (ComposeException e) {
            return List.of("compose would refuse " + Repo.COMPOSE_FILE + ": " + e.getMessage() + in);
        }
        Path workDir = service.workingDir().orElse(Path.of("/"));
        SidecarConfig config;
        try {
            config = SidecarConfig.fromEnv(inContainer(env, workDir));
        } catch (ConfigException e) {
            return List.of("the server would not start in the container: " + e.getMessage() + in);
        }
        List<String> cmd = service.commandLine();

        // image
        String image = service.image().orElse("");
        Matcher tag = IMAGE_TAG.matcher(image);
        if (!tag.matches() || !JAVA_IMAGE.matcher(tag.group(1)).find() || Integer.parseInt(tag.group(2)) < 22) {
            problems.add("image \"" + image + "\" is not a Java 22+ runtime image (expected e.g. eclipse-temurin:25-jre)");
        }

        // listen address and ports
        int listenPort = argument(cmd, "--port").map(Integer::parseInt).orElse(config.port());
        String listenHost = argument(cmd, "--host").orElse(config.host());
        if (listenPort != CONTAINER_PORT) {
            problems.add("the container listens on port " + listenPort + ", not " + CONTAINER_PORT + " (it must whatever the host port is)" + in);
        }
        if (!listenHost.equals("0.0.0.0") && !listenHost.equals("::")) {
            problems.add("the container binds " + listenHost + ", unreachable through the published port (bind 0.0.0.0)" + in);
        }
        List<PortMapping> toListener = service.ports().stream().filter(p -> p.target() == listenPort).toList();
        if (toListener.isEmpty()) {
            problems.add("no port mapping targets the container's listen port " + listenPort + " (targets: "
                    + service.ports().stream().map(p -> String.valueOf(p.target())).toList() + ")" + in);
        } else if (toListener.stream().noneMatch(p -> Integer.valueOf(scenario.expectedHostPort()).equals(p.published()))) {
            problems.add("the published host port is " + toListener.stream().map(PortMapping::published).toList()
                    + ", expected " + scenario.expectedHostPort() + in);
        }

        // env_file
        Path expectedEnvFile = repo.resolve(Repo.ENV_FILE).toAbsolutePath().normalize();
        if (service.envFiles().stream().noneMatch(f -> f.path().equals(expectedEnvFile))) {
            problems.add("env_file does not load the repo-root " + Repo.ENV_FILE + " (entries: "
                    + service.envFiles().stream().map(f -> f.path().toString()).toList() + ")");
        }

        // upstream URLs (Ollama, OpenAI-compatible server): not loopback unless the user chose it
        checkUpstream(problems, service, "Ollama URL", SidecarConfig.OLLAMA_URL, config.ollamaUrl(),
                "http://host.docker.internal:11434", composeFile, scenario, workDir, in);
        checkUpstream(problems, service, "OpenAI-compatible server URL", SidecarConfig.OPENAI_URL, config.openAiUrl(),
                "http://host.docker.internal:8080/v1", composeFile, scenario, workDir, in);

        // volumes: the directories the server uses must be host bind mounts of ./data and .agents
        Path data = repo.resolve("data").toAbsolutePath().normalize();
        checkDir(problems, service, "STREAMING_LLM_DATA_DIR", config.dataDir(), data, in);
        checkDir(problems, service, "STREAMING_LLM_LOG_DIR", config.logDir(), data.resolve("logs"), in);
        checkDir(problems, service, "STREAMING_LLM_SUMMARY_DIR", config.summaryDir(), data.resolve("summaries"), in);
        checkDir(problems, service, "archive dir", config.archiveDir(), data.resolve("archive"), in);
        checkDir(problems, service, "STREAMING_LLM_AGENTS_DIR", config.agentsDir(), repo.resolve(".agents").toAbsolutePath().normalize(), in);

        // command: java -jar <the jar the build produces>, with the Vector API module
        checkCommand(problems, repo, service, cmd, workDir);

        // health check on /healthz at the listen port
        Optional<List<String>> health = service.healthcheck();
        if (health.isEmpty()) {
            problems.add("no healthcheck (expected one on /healthz)");
        } else {
            String script = String.join(" ", health.get().subList(1, health.get().size()));
            String expanded;
            try {
                expanded = Interpolator.interpolate(script.replace("$$", "$"), env);
            } catch (ComposeException e) {
                expanded = script;
            }
            Matcher target = LOCAL_TARGET.matcher(expanded);
            if (!expanded.contains("/healthz")) {
                problems.add("the healthcheck does not request /healthz: " + script);
            } else if (!target.find() || Integer.parseInt(target.group(1)) != listenPort) {
                problems.add("the healthcheck does not reach the listen port " + listenPort + " on loopback: " + expanded);
            }
        }
        return problems;
    }

    /** Relative directory values as the server would see them with the container's working directory as cwd. */
    static Map<String, String> inContainer(Map<String, String> env, Path workDir) {
        Map<String, String> out = new HashMap<>(env);
        Map<String, String> defaults = SidecarConfig.defaults();
        for (String key : List.of(SidecarConfig.DATA_DIR, SidecarConfig.LOG_DIR, SidecarConfig.SUMMARY_DIR, SidecarConfig.AGENTS_DIR)) {
            String v = out.get(key);
            if (v == null || v.isBlank()) {
                v = defaults.get(key);
            }
            if (!v.isBlank() && !v.startsWith("/")) {
                out.put(key, workDir.resolve(v).normalize().toString());
            }
        }
        return out;
    }

    private static void checkUpstream(List<String> problems, ComposeService service, String what, String key, URI url,
                                      String suggested, Path composeFile, Scenario scenario, Path workDir, String in) {
        if (isLoopback(url.getHost())) {
            URI fallback = withoutUserValue(composeFile, scenario, workDir, key);
            if (fallback == null || isLoopback(fallback.getHost())) {
                problems.add("the " + what + " inside the container defaults to loopback " + url
                        + ": that is the container itself (use " + suggested + " with a host-gateway mapping)" + in);
            }
        }
        if ("host.docker.internal".equals(url.getHost())
                && !"host-gateway".equals(service.extraHosts().get("host.docker.internal"))) {
            problems.add("the " + what + " uses host.docker.internal but extra_hosts lacks host.docker.internal:host-gateway (needed on Linux)" + in);
        }
    }

    /** What {@code key} resolves to in the container when the user's shell does not set it. */
    private static URI withoutUserValue(Path composeFile, Scenario scenario, Path workDir, String key) {
        try {
            ComposeService s = ComposeProject.load(composeFile, scenario.shellEnv(), Set.of(key)).service(SERVICE);
            SidecarConfig c = SidecarConfig.fromEnv(inContainer(s.containerEnvironment(), workDir));
            return key.equals(SidecarConfig.OPENAI_URL) ? c.openAiUrl() : c.ollamaUrl();
        } catch (ComposeException | ConfigException e) {
            return null;
        }
    }

    static boolean isLoopback(String host) {
        if (host == null) {
            return false;
        }
        String h = host.replaceAll("^\\[|]$", "");
        if (h.equalsIgnoreCase("localhost") || h.equals("0.0.0.0")) {
            return true;
        }
        if (!h.matches("[0-9.]+|[0-9a-fA-F:]+")) {
            return false;
        }
        try {
            return InetAddress.getByName(h).isLoopbackAddress();
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    private static void checkDir(List<String> problems, ComposeService service, String what, Path inContainer, Path expectedHost, String in) {
        Optional<Path> host = service.hostPathOf(inContainer);
        if (host.isEmpty()) {
            problems.add(what + " is " + inContainer + " inside the container, which is on no mounted volume: its files die with the container" + in);
        } else if (!host.get().equals(expectedHost)) {
            problems.add(what + " is " + inContainer + " inside the container, mounted from " + host.get() + " instead of " + expectedHost + in);
        } else if (service.mountOf(inContainer).map(Mount::readOnly).orElse(false)) {
            problems.add(what + " " + inContainer + " is mounted read-only" + in);
        }
    }

    private static void checkCommand(List<String> problems, Path repo, ComposeService service, List<String> cmd, Path workDir) {
        Path expectedJar = Repo.serverJar(repo).toAbsolutePath().normalize();
        int jarAt = cmd.indexOf("-jar");
        if (cmd.isEmpty() || !(cmd.get(0).equals("java") || cmd.get(0).endsWith("/java")) || jarAt < 0 || jarAt + 1 >= cmd.size()) {
            problems.add("the command " + cmd + " does not start the server jar with java -jar (expected the build's "
                    + repo.relativize(expectedJar) + ")");
            return;
        }
        Path jarInContainer = workDir.resolve(cmd.get(jarAt + 1)).normalize();
        Optional<Path> jarOnHost = service.hostPathOf(jarInContainer);
        if (jarOnHost.isEmpty() || !jarOnHost.get().equals(expectedJar)) {
            problems.add("the command starts " + jarInContainer + " (" + jarOnHost.map(Path::toString).orElse("not mounted from the host")
                    + "), not the jar the build produces: " + repo.relativize(expectedJar));
        } else if (!service.hostPathOf(jarInContainer.resolveSibling("libs")).orElseThrow().equals(expectedJar.resolveSibling("libs"))) {
            problems.add("the jar's libs/ directory is not mounted beside it");
        }
        int addModules = cmd.indexOf("--add-modules");
        boolean vector = (addModules >= 0 && addModules + 1 < cmd.size() && cmd.get(addModules + 1).contains("jdk.incubator.vector"))
                || cmd.stream().anyMatch(a -> a.startsWith("--add-modules=") && a.contains("jdk.incubator.vector"));
        if (!vector || (addModules > jarAt)) {
            problems.add("the java command lacks --add-modules jdk.incubator.vector before -jar (the local GGUF engine needs it)");
        }
    }

    private static Optional<String> argument(List<String> cmd, String flag) {
        int i = cmd.indexOf(flag);
        return i >= 0 && i + 1 < cmd.size() ? Optional.of(cmd.get(i + 1)) : Optional.empty();
    }
}
