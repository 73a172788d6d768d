package io.streamingllm.core.agent;

import io.streamingllm.core.AtomicFiles;
import io.streamingllm.core.Ids;
import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.representer.Representer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Markdown agents in one directory; seeds {@code planner} and {@code researcher} when absent. Thread-safe.
 *
 * <p>A file {@code {id}.md} holds YAML front matter ({@code id}, {@code name}, {@code system_prompt}, and
 * optionally {@code tools}: a list of {@code {name, description, parameters}}, see {@link AgentTools}) between
 * {@code ---} lines, then the markdown context. A file whose front matter does not parse, or whose tools do not
 * pass {@link AgentTools}'s checks, is skipped with a warning naming the file and the field. The file name is the agent's id. Files are read once at
 * construction (and on {@link #reload}); the store's own writes keep the cache current.
 */
public final class AgentStore implements AgentRepository {
    private static final System.Logger LOG = System.getLogger(AgentStore.class.getName());
    private static final String SUFFIX = ".md";

    /** The agents every fresh install starts with. */
    public static final List<Agent> SEEDS = List.of(
            new Agent("planner", "Planner",
                    "You are a planning agent. Break the user's goal into a short, ordered list of concrete steps, "
                            + "state assumptions and open questions, and keep each step small enough to act on.",
                    "# Planner\n\nTurns goals into numbered, verifiable steps. Prefers small steps, names risks and "
                            + "dependencies, and revises the plan when new information arrives."),
            new Agent("researcher", "Researcher",
                    "You are a research agent. Answer with well-organised findings, distinguish facts from "
                            + "inferences, say how confident you are, and point out what would need checking.",
                    "# Researcher\n\nGathers and compares information, summarises sources faithfully and flags "
                            + "uncertainty instead of guessing."));

    private final Path agentsDir;
    private final Map<String, Agent> cache = new ConcurrentHashMap<>();
    private final Object writeLock = new Object();

    public AgentStore(Path agentsDir) {
        this.agentsDir = agentsDir.toAbsolutePath().normalize();
        try {
            Files.createDirectories(this.agentsDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create agents directory " + this.agentsDir + ": " + e.getMessage(), e);
        }
        synchronized (writeLock) {
            for (Agent seed : SEEDS) {
                if (!Files.exists(file(seed.id()))) {
                    AtomicFiles.write(file(seed.id()), render(seed).getBytes(StandardCharsets.UTF_8));
                }
            }
            reload();
        }
    }

    public Path directory() {
        return agentsDir;
    }

    /** Re-reads every {@code *.md} file (picks up files edited by hand). */
    public void reload() {
        synchronized (writeLock) {
            Map<String, Agent> loaded = new LinkedHashMap<>();
            try (Stream<Path> files = Files.list(agentsDir)) {
                files.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).sorted().forEach(p -> {
                    String name = p.getFileName().toString();
                    String id = name.substring(0, name.length() - SUFFIX.length());
                    if (!Ids.isValid(id)) {
                        LOG.log(System.Logger.Level.WARNING, "agents: skipping {0}: file name is not a valid agent id", p);
                        return;
                    }
                    load(p, id).ifPresent(a -> loaded.put(id, a));
                });
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list agents directory " + agentsDir + ": " + e.getMessage(), e);
            }
            cache.keySet().retainAll(loaded.keySet());
            cache.putAll(loaded);
        }
    }

    /** Every agent, sorted by id. */
    public List<Agent> list() {
        List<Agent> agents = new ArrayList<>(cache.values());
        agents.sort(Comparator.comparing(Agent::id));
        return agents;
    }

    public Optional<Agent> get(String id) {
        return Optional.ofNullable(cache.get(Ids.require("agent", id)));
    }

    /** Creates or replaces; fields are trimmed; a blank or invalid id throws; a blank name becomes the id. */
    public Agent upsert(Agent agent) {
        Agent clean = clean(agent);
        String id = clean.id();
        synchronized (writeLock) {
            AtomicFiles.write(file(id), render(clean).getBytes(StandardCharsets.UTF_8));
            cache.put(id, clean);
        }
        return clean;
    }

    /** Removes file and cache entry; false when there was no such agent. */
    public boolean delete(String id) {
        Path file = file(id);
        synchronized (writeLock) {
            boolean cached = cache.remove(id) != null;
            try {
                boolean deleted = Files.deleteIfExists(file);
                if (deleted) {
                    AtomicFiles.syncDirectory(agentsDir);
                }
                return deleted || cached;
            } catch (IOException e) {
                throw new UncheckedIOException("cannot delete agent file " + file + ": " + e.getMessage(), e);
            }
        }
    }

    private Path file(String id) {
        return agentsDir.resolve(Ids.require("agent", id) + SUFFIX);
    }

    private static String trim(String s) {
        return s == null ? "" : s.trim();
    }

    /** Parses one agent file; anything unreadable or malformed is skipped with a warning. */
    static Optional<Agent> load(Path file, String id) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | UncheckedIOException e) {
            LOG.log(System.Logger.Level.WARNING, "agents: skipping {0}: cannot read it ({1})", file, e.getMessage());
            return Optional.empty();
        }
        try {
            return Optional.of(parse(text, id, file));
        } catch (IllegalArgumentException | YAMLException e) {
            LOG.log(System.Logger.Level.WARNING, "agents: skipping {0}: {1}", file, String.valueOf(e.getMessage()).replaceAll("\\s+", " "));
            return Optional.empty();
        }
    }

    /**
     * The agent of a whole markdown document (front matter and body) stored under {@code id}: the same parser as
     * the files, for stores that keep documents elsewhere. Malformed text throws {@link IllegalArgumentException}.
     */
    public static Agent fromMarkdown(String text, String id) {
        try {
            return parse(text, id, Path.of(id + SUFFIX));
        } catch (YAMLException e) {
            throw new IllegalArgumentException(String.valueOf(e.getMessage()).replaceAll("\\s+", " "), e);
        }
    }

    /** The whole markdown document of an agent, as its file holds it. */
    public static String toMarkdown(Agent agent) {
        return render(agent);
    }

    /** An agent as {@link #upsert} stores it: fields trimmed, a blank or invalid id refused, a blank name the id. */
    public static Agent clean(Agent agent) {
        if (agent == null) {
            throw new IllegalArgumentException("agent is missing");
        }
        // strip(), not trim(): trim() would quietly turn "x\0" into "x"
        String id = Ids.require("agent", agent.id() == null ? "" : agent.id().strip());
        String name = trim(agent.name());
        return new Agent(id, name.isEmpty() ? id : name, trim(agent.systemPrompt()), trim(agent.markdownContext()),
                agent.tools());
    }

    static Agent parse(String text, String id, Path file) {
        String t = text.startsWith("\uFEFF") ? text.substring(1) : text;
        t = t.replace("\r\n", "\n");
        if (t.isBlank()) {
            throw new IllegalArgumentException("file is empty");
        }
        if (!t.startsWith("---\n")) {
            throw new IllegalArgumentException("no YAML front matter (the file must start with a --- line)");
        }
        int close = t.indexOf("\n---\n", 3);
        int bodyStart;
        if (close >= 0) {
            bodyStart = close + 5;
        } else if (t.endsWith("\n---")) {
            close = t.length() - 4;
            bodyStart = t.length();
        } else {
            throw new IllegalArgumentException("front matter is not closed by a --- line");
        }
        String yamlText = t.substring(4, close + 1);
        Object loaded = new Yaml(new SafeConstructor(new LoaderOptions())).load(yamlText);
        if (loaded != null && !(loaded instanceof Map)) {
            throw new IllegalArgumentException("front matter is not a YAML mapping");
        }
        Map<?, ?> fm = loaded == null ? Map.of() : (Map<?, ?>) loaded;
        Object declaredId = fm.get("id");
        if (declaredId != null && !String.valueOf(declaredId).trim().equals(id)) {
            LOG.log(System.Logger.Level.WARNING, "agents: {0} declares id \"{1}\"; using the file name, \"{2}\"",
                    file, declaredId, id);
        }
        String name = text(fm.get("name"));
        return new Agent(id, name.isEmpty() ? id : name, text(fm.get("system_prompt")), t.substring(bodyStart).trim(),
                AgentTools.fromYaml(fm.get("tools")));
    }

    private static String text(Object value) {
        return value == null ? "" : String.valueOf(value).trim();
    }

    static String render(Agent agent) {
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        options.setWidth(Integer.MAX_VALUE);
        options.setSplitLines(false);
        Yaml yaml = new Yaml(new Representer(options), options);
        Map<String, Object> fm = new LinkedHashMap<>();
        fm.put("id", agent.id());
        fm.put("name", agent.name());
        fm.put("system_prompt", agent.systemPrompt());
        if (!agent.tools().isEmpty()) {
            fm.put("tools", AgentTools.toYaml(agent.tools()));
        }
        return "---\n" + yaml.dump(fm) + "---\n" + agent.markdownContext() + "\n";
    }
}
