package io.streamingllm.core.config;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What {@code STREAMING_LLM_MODEL} names: an engine kind and the model within it.
 *
 * @param kind    which engine serves the model
 * @param name    model name for Ollama and the Ollama store ({@code NAME[:TAG]}), {@code "echo"} for echo,
 *                the file path for GGUF, the model id the OpenAI-compatible server lists for {@code openai:}
 */
public record ModelSpec(Kind kind, String name) {
    public enum Kind { GGUF, OLLAMA_STORE, OLLAMA, ECHO, OPENAI }

    /**
     * Parses in DESIGN's order: openai: (first: a llama-server model id may end in .gguf), gguf: / *.gguf,
     * ollama-store:, ollama:, echo, anything else → Ollama.
     */
    public static ModelSpec parse(String raw) {
        String v = raw == null ? "" : raw.trim();
        if (v.isEmpty()) {
            throw new ConfigException(SidecarConfig.MODEL, SidecarConfig.MODEL + " is empty: set a model such as llama3.2:latest, echo or gguf:/path/model.gguf");
        }
        if (v.startsWith("openai:")) {
            String name = v.substring("openai:".length()).strip();
            if (name.isEmpty() || name.chars().anyMatch(c -> c <= ' ')) {
                throw new ConfigException(SidecarConfig.MODEL, SidecarConfig.MODEL + "=" + ConfigException.show(v)
                        + ": openai: needs the model id the server lists at GET /v1/models, e.g. openai:Qwen/Qwen2.5-7B-Instruct");
            }
            return new ModelSpec(Kind.OPENAI, name);
        }
        if (v.startsWith("gguf:") || v.toLowerCase(java.util.Locale.ROOT).endsWith(".gguf")) {
            String path = v.startsWith("gguf:") ? v.substring("gguf:".length()) : v;
            if (path.isBlank()) {
                throw new ConfigException(SidecarConfig.MODEL, SidecarConfig.MODEL + "=" + ConfigException.show(v) + ": gguf: needs a file path");
            }
            Path p;
            try {
                p = Path.of(path);
            } catch (java.nio.file.InvalidPathException e) {
                throw new ConfigException(SidecarConfig.MODEL, SidecarConfig.MODEL + "=" + ConfigException.show(v) + ": not a file path");
            }
            if (!Files.isRegularFile(p)) {
                throw new ConfigException(SidecarConfig.MODEL, SidecarConfig.MODEL + "=" + ConfigException.show(v)
                        + ": no such GGUF file " + ConfigException.show(p.toAbsolutePath().toString()));
            }
            return new ModelSpec(Kind.GGUF, path);
        }
        if (v.startsWith("ollama-store:")) {
            return new ModelSpec(Kind.OLLAMA_STORE, requireName(v, v.substring("ollama-store:".length())));
        }
        if (v.startsWith("ollama:")) {
            return new ModelSpec(Kind.OLLAMA, requireName(v, v.substring("ollama:".length())));
        }
        if (v.equals("echo")) {
            return new ModelSpec(Kind.ECHO, "echo");
        }
        return new ModelSpec(Kind.OLLAMA, requireName(v, v));
    }

    private static String requireName(String raw, String name) {
        if (name.isBlank() || name.chars().anyMatch(c -> c <= ' ')) {
            throw new ConfigException(SidecarConfig.MODEL, SidecarConfig.MODEL + "=" + ConfigException.show(raw) + ": not a model name (NAME[:TAG])");
        }
        return name;
    }

    /** True when the model runs inside this process (GGUF file or Ollama store blob). */
    public boolean isLocal() {
        return kind == Kind.GGUF || kind == Kind.OLLAMA_STORE;
    }
}
