package io.streamingllm.local;

import io.streamingllm.core.engine.EngineException;
import jakarta.json.Json;
import jakarta.json.JsonException;
import jakarta.json.JsonObject;
import jakarta.json.JsonReader;
import jakarta.json.JsonValue;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Finds the GGUF blob of a model pulled by Ollama: the manifest at
 * {@code MODELS/manifests/registry.ollama.ai/library/NAME/TAG} (or {@code .../NAMESPACE/NAME/TAG}, or
 * {@code HOST/NAMESPACE/NAME}), its layer of media type {@code application/vnd.ollama.image.model}, and
 * the blob {@code MODELS/blobs/sha256-HEX}. MODELS is {@code $OLLAMA_MODELS} or {@code ~/.ollama/models}.
 */
public final class OllamaStore {
    static final String MODEL_MEDIA_TYPE = "application/vnd.ollama.image.model";
    private static final Pattern PART = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]*");
    private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");

    private final Path modelsDir;

    public OllamaStore(Path modelsDir) {
        this.modelsDir = modelsDir;
    }

    /** The store the environment names: {@code OLLAMA_MODELS}, else {@code ~/.ollama/models}. */
    public static OllamaStore fromEnvironment(Map<String, String> env) {
        String dir = env.get("OLLAMA_MODELS");
        return new OllamaStore(dir != null && !dir.isBlank() ? Path.of(dir)
                : Path.of(System.getProperty("user.home"), ".ollama", "models"));
    }

    /** The GGUF blob of {@code NAME[:TAG]}; {@link EngineException} (MODEL_NOT_FOUND) saying what is missing. */
    public Path resolve(String nameTag) {
        int colon = nameTag.lastIndexOf(':');
        String name = colon > nameTag.lastIndexOf('/') && colon >= 0 ? nameTag.substring(0, colon) : nameTag;
        String tag = colon > nameTag.lastIndexOf('/') && colon >= 0 ? nameTag.substring(colon + 1) : "latest";
        String[] parts = name.split("/", -1);
        String host = "registry.ollama.ai";
        String namespace = "library";
        String model;
        switch (parts.length) {
            case 1 -> model = parts[0];
            case 2 -> {
                namespace = parts[0];
                model = parts[1];
            }
            case 3 -> {
                host = parts[0];
                namespace = parts[1];
                model = parts[2];
            }
            default -> throw notFound("not an Ollama model name: " + nameTag + " (NAME[:TAG], NAMESPACE/NAME[:TAG])");
        }
        for (String p : new String[] {host, namespace, model, tag}) {
            if (!PART.matcher(p).matches() || p.contains("..")) {
                throw notFound("not an Ollama model name: " + nameTag + " (NAME[:TAG], NAMESPACE/NAME[:TAG])");
            }
        }
        Path manifest = modelsDir.resolve("manifests").resolve(host).resolve(namespace).resolve(model).resolve(tag);
        if (!Files.isRegularFile(manifest)) {
            throw notFound("model " + nameTag + " is not in the Ollama store at " + modelsDir + " (no manifest "
                    + manifest + "): run `ollama pull " + nameTag + "` or set OLLAMA_MODELS");
        }
        String digest = modelDigest(manifest);
        Path blob = modelsDir.resolve("blobs").resolve(digest.replace(':', '-'));
        if (!Files.isRegularFile(blob)) {
            throw notFound("model " + nameTag + ": the manifest names blob " + blob + ", which is missing: run `ollama pull "
                    + nameTag + "` again");
        }
        return blob;
    }

    private static String modelDigest(Path manifest) {
        JsonObject json;
        try (InputStream in = Files.newInputStream(manifest); JsonReader r = Json.createReader(in)) {
            json = r.readObject();
        } catch (IOException | JsonException | ClassCastException e) {
            throw notFound("unreadable Ollama manifest " + manifest + ": " + e.getMessage());
        }
        JsonValue layers = json.get("layers");
        if (layers != null && layers.getValueType() == JsonValue.ValueType.ARRAY) {
            for (JsonValue layer : layers.asJsonArray()) {
                if (layer.getValueType() == JsonValue.ValueType.OBJECT
                        && MODEL_MEDIA_TYPE.equals(layer.asJsonObject().getString("mediaType", null))) {
                    String digest = layer.asJsonObject().getString("digest", "");
                    if (!DIGEST.matcher(digest).matches()) {
                        throw notFound("Ollama manifest " + manifest + ": model layer has a bad digest '" + digest + "'");
                    }
                    return digest;
                }
            }
        }
        throw notFound("Ollama manifest " + manifest + " has no layer of type " + MODEL_MEDIA_TYPE);
    }

    private static EngineException notFound(String message) {
        return new EngineException(EngineException.Kind.MODEL_NOT_FOUND, message);
    }
}
