package io.streamingllm.local;

import static org.junit.jupiter.api.Assertions.*;

import io.streamingllm.core.engine.EngineException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OllamaStoreTest {
    static final String HEX = "a".repeat(64);

    @TempDir
    Path models;

    private void manifest(String relative, String json) throws Exception {
        Path m = models.resolve("manifests/registry.ollama.ai").resolve(relative);
        Files.createDirectories(m.getParent());
        Files.writeString(m, json);
    }

    private static String manifestJson(String mediaType, String digest) {
        return """
                {"schemaVersion":2,"layers":[
                  {"mediaType":"application/vnd.ollama.image.template","digest":"sha256:%s","size":1},
                  {"mediaType":"%s","digest":"%s","size":5}]}""".formatted("b".repeat(64), mediaType, digest);
    }

    private Path blob() throws Exception {
        Path b = models.resolve("blobs/sha256-" + HEX);
        Files.createDirectories(b.getParent());
        Files.writeString(b, "GGUF!");
        return b;
    }

    @Test
    void findsTheModelLayerBlobForPlainAndNamespacedNames() throws Exception {
        Path blob = blob();
        manifest("library/llama3.2/latest", manifestJson(OllamaStore.MODEL_MEDIA_TYPE, "sha256:" + HEX));
        manifest("someone/tiny/q4_K_M", manifestJson(OllamaStore.MODEL_MEDIA_TYPE, "sha256:" + HEX));
        OllamaStore store = OllamaStore.fromEnvironment(Map.of("OLLAMA_MODELS", models.toString()));
        assertEquals(blob, store.resolve("llama3.2"));
        assertEquals(blob, store.resolve("llama3.2:latest"));
        assertEquals(blob, store.resolve("someone/tiny:q4_K_M"));
    }

    @Test
    void missingPiecesAreClearModelNotFoundErrors() throws Exception {
        OllamaStore store = new OllamaStore(models);
        EngineException noManifest = assertThrows(EngineException.class, () -> store.resolve("qwen2:0.5b"));
        assertEquals(EngineException.Kind.MODEL_NOT_FOUND, noManifest.kind());
        assertTrue(noManifest.getMessage().contains("ollama pull qwen2:0.5b"), noManifest.getMessage());

        manifest("library/nolayer/latest", manifestJson("application/vnd.ollama.image.license", "sha256:" + HEX));
        assertTrue(assertThrows(EngineException.class, () -> store.resolve("nolayer")).getMessage()
                .contains("no layer of type application/vnd.ollama.image.model"));

        manifest("library/noblob/latest", manifestJson(OllamaStore.MODEL_MEDIA_TYPE, "sha256:" + "c".repeat(64)));
        assertTrue(assertThrows(EngineException.class, () -> store.resolve("noblob")).getMessage().contains("missing"));

        manifest("library/broken/latest", "{not json");
        assertTrue(assertThrows(EngineException.class, () -> store.resolve("broken")).getMessage().contains("unreadable"));

        manifest("library/baddigest/latest", manifestJson(OllamaStore.MODEL_MEDIA_TYPE, "sha256:../../etc"));
        assertTrue(assertThrows(EngineException.class, () -> store.resolve("baddigest")).getMessage().contains("bad digest"));

        for (String bad : new String[] {"../x", "a/b/c/d", "x:", ".hidden"}) {
            EngineException e = assertThrows(EngineException.class, () -> store.resolve(bad), bad);
            assertTrue(e.getMessage().contains("not an Ollama model name"), bad + ": " + e.getMessage());
        }
    }
}
