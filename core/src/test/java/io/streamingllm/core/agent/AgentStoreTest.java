package io.streamingllm.core.agent;

import io.streamingllm.core.InvalidIdException;
import io.streamingllm.core.engine.ToolDefinition;
import jakarta.json.JsonValue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AgentStoreTest {
    @TempDir
    Path dir;

    private Path agents() {
        return dir.resolve("agents");
    }

    @Test
    void seedsPlannerAndResearcherWhenAbsent() throws IOException {
        AgentStore store = new AgentStore(agents());
        assertEquals(List.of("planner", "researcher"), store.list().stream().map(Agent::id).toList());
        Agent planner = store.get("planner").orElseThrow();
        assertFalse(planner.systemPrompt().isBlank());
        assertFalse(planner.markdownContext().isBlank());
        assertTrue(Files.readString(agents().resolve("planner.md")).startsWith("---\n"));
    }

    @Test
    void seedingLeavesExistingAgentsAloneAndOnlyAddsMissingOnes() throws IOException {
        Files.createDirectories(agents());
        Files.writeString(agents().resolve("planner.md"), "---\nid: planner\nname: Mine\nsystem_prompt: custom\n---\nmy notes\n");
        AgentStore store = new AgentStore(agents());
        assertEquals(new Agent("planner", "Mine", "custom", "my notes"), store.get("planner").orElseThrow());
        assertTrue(store.get("researcher").isPresent());
        // deleting a seed is respected until the store is created again on a directory without it
        assertTrue(store.delete("researcher"));
        assertFalse(Files.exists(agents().resolve("researcher.md")));
        assertEquals(Optional.empty(), store.get("researcher"));
        assertFalse(store.delete("researcher"));
    }

    @Test
    void upsertTrimsDefaultsNameAndRoundTripsTrickyYaml() {
        AgentStore store = new AgentStore(agents());
        String prompt = "Say: \"hi\" — then 'bye'\n# not a comment\n---\nkey: value: more";
        Agent saved = store.upsert(new Agent("  writer  ", "   ", "  " + prompt + "  ", "\n\n# Body\n\n---\ntext\n\n"));
        assertEquals(new Agent("writer", "writer", prompt, "# Body\n\n---\ntext"), saved);
        Agent reread = new AgentStore(agents()).get("writer").orElseThrow();
        assertEquals(saved, reread);
        Agent colon = store.upsert(new Agent("colon", "a: b", "- list? no: [x] {y} & *z !tag %p @q `r`", ""));
        assertEquals(colon, new AgentStore(agents()).get("colon").orElseThrow());
    }

    @Test
    void upsertRefusesBlankOrInvalidIds() {
        AgentStore store = new AgentStore(agents());
        for (String bad : new String[]{"", "   ", "../x", "a/b", "x".repeat(300), "a\0b"}) {
            InvalidIdException e = assertThrows(InvalidIdException.class, () -> store.upsert(new Agent(bad, "n", "p", "")));
            assertTrue(e.getMessage().startsWith("invalid agent id"), e.getMessage());
        }
        assertThrows(InvalidIdException.class, () -> store.upsert(new Agent(null, "n", "p", "")));
        assertThrows(IllegalArgumentException.class, () -> store.upsert(null));
        assertEquals(2, store.list().size());
    }

    @Test
    void unreadableEmptyAndMalformedFilesAreSkipped() throws IOException {
        Files.createDirectories(agents());
        Files.writeString(agents().resolve("empty.md"), "");
        Files.writeString(agents().resolve("nofront.md"), "# just markdown\n");
        Files.writeString(agents().resolve("unclosed.md"), "---\nid: x\nname: y\n");
        Files.writeString(agents().resolve("badyaml.md"), "---\nname: [unclosed\n---\nbody\n");
        Files.writeString(agents().resolve("scalar.md"), "---\njust a string\n---\nbody\n");
        Files.createDirectories(agents().resolve("dir.md")); // cannot be read as a file
        Files.writeString(agents().resolve("bad name.md"), "---\nid: x\n---\n");
        Files.writeString(agents().resolve("ok.md"), "---\nid: other\nname: OK\n---\n\nContext.\n");
        AgentStore store = new AgentStore(agents());
        assertEquals(List.of("ok", "planner", "researcher"), store.list().stream().map(Agent::id).toList());
        assertEquals(new Agent("ok", "OK", "", "Context."), store.get("ok").orElseThrow(), "the file name wins");
    }

    @Test
    void deleteRemovesFileAndCache() {
        AgentStore store = new AgentStore(agents());
        store.upsert(new Agent("temp", "Temp", "p", "c"));
        assertTrue(store.delete("temp"));
        assertFalse(Files.exists(agents().resolve("temp.md")));
        assertEquals(Optional.empty(), store.get("temp"));
        assertEquals(Optional.empty(), new AgentStore(agents()).get("temp"));
        assertThrows(InvalidIdException.class, () -> store.delete("../planner"));
    }

    @Test
    void concurrentUpsertsReadsAndDeletesStayConsistent() throws Exception {
        AgentStore store = new AgentStore(agents());
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    start.await();
                    for (int i = 0; i < 50; i++) {
                        store.upsert(new Agent("shared", "v" + thread + "-" + i, "p" + i, "c"));
                        store.upsert(new Agent("own-" + thread, "n" + i, "p", "c"));
                        Agent seen = store.get("shared").orElseThrow();
                        assertTrue(seen.name().startsWith("v"), seen.toString());
                        if (i % 10 == 9) {
                            store.delete("own-" + thread);
                        }
                        store.list();
                    }
                    return null;
                }));
            }
            start.countDown();
            for (Future<?> f : futures) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        AgentStore reloaded = new AgentStore(agents());
        assertEquals(store.list(), reloaded.list(), "cache matches the files");
        try (Stream<Path> files = Files.list(agents())) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().endsWith(".tmp")), "no temp files left");
        }
    }

    @Test
    void frontMatterToolsAreReadWrittenAndRoundTripWithTheirSchemas() throws IOException {
        Files.createDirectories(agents());
        Files.writeString(agents().resolve("weather.md"), """
                ---
                id: weather
                name: Weather
                system_prompt: You answer weather questions.
                tools:
                  - name: get_weather
                    description: Weather of a city
                    parameters:
                      type: object
                      properties:
                        city: {type: string, description: "City, country"}
                        days: {type: integer, minimum: 1, maximum: 7.5}
                      required: [city]
                  - name: now
                ---
                Knows the weather.
                """);
        AgentStore store = new AgentStore(agents());
        Agent weather = store.get("weather").orElseThrow();
        assertEquals(List.of("get_weather", "now"), weather.tools().stream().map(ToolDefinition::name).toList());
        ToolDefinition get = weather.tools().getFirst();
        assertEquals("Weather of a city", get.description());
        assertEquals("City, country", get.parameters().getJsonObject("properties").getJsonObject("city")
                .getString("description"));
        assertEquals(1, get.parameters().getJsonObject("properties").getJsonObject("days").getInt("minimum"));
        assertEquals("city", get.parameters().getJsonArray("required").getString(0));
        assertEquals(JsonValue.EMPTY_JSON_OBJECT, weather.tools().get(1).parameters());

        Agent rewritten = store.upsert(new Agent("weather2", "W", "p", "c", weather.tools()));
        assertEquals(rewritten, new AgentStore(agents()).get("weather2").orElseThrow(), "written and read back the same");
        assertEquals(weather.tools(), rewritten.tools());
    }

    @Test
    void anAgentFileWithABadToolSchemaIsSkippedWithAMessageNamingTheField() throws IOException {
        String bad = "---\nname: Bad\ntools:\n  - name: search\n    parameters:\n      type: array\n---\nbody\n";
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AgentStore.parse(bad, "bad", agents().resolve("bad.md")));
        assertTrue(e.getMessage().startsWith("tools[0].parameters.type must be \"object\""), e.getMessage());
        for (String[] c : new String[][]{
                {"tools: search", "tools must be a list"},
                {"tools:\n  - description: no name", "tools[0].name must be a string"},
                {"tools:\n  - name: a\n  - name: a", "tools[1].name a is declared twice"},
                {"tools:\n  - name: a\n    params: {}", "tools[0].params is not a tool field"},
                {"tools:\n  - name: a\n    parameters:\n      properties: [x]", "tools[0].parameters.properties must be"},
                {"tools:\n  - name: a\n    parameters:\n      properties:\n        when: 2024-01-01", "tools[0].parameters.properties.when"}}) {
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                    () -> AgentStore.parse("---\n" + c[0] + "\n---\n", "x", agents().resolve("x.md")), c[0]);
            assertTrue(refused.getMessage().startsWith(c[1]), c[0] + " -> " + refused.getMessage());
        }
        Files.createDirectories(agents());
        Files.writeString(agents().resolve("bad.md"), bad);
        AgentStore store = new AgentStore(agents());
        assertEquals(Optional.empty(), store.get("bad"), "skipped at load, the others still served");
        assertTrue(store.get("planner").isPresent());
    }
}
