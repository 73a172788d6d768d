package io.streamingllm.core.engine.pool;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.Generation;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.ModelEngine;
import io.streamingllm.core.engine.ollama.OllamaEngine;
import io.streamingllm.core.testing.FakeOllama;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Three (and four) fake Ollama servers on loopback behind one pool. Each fake answers every turn with its own name,
 * so a turn's text says which upstream served it.
 */
class UpstreamPoolTest {
    private static final String MODEL = "llama3.2:latest";
    private static final PoolSettings FAST = new PoolSettings(1.25, 3, Duration.ofMinutes(5), Duration.ofMillis(50),
            Duration.ofMillis(200));
    private static final List<String> NAMES = List.of("A", "B", "C", "D");

    private final Map<String, FakeOllama> fakes = new LinkedHashMap<>();
    private final Queue<String> events = new ConcurrentLinkedQueue<>();
    private final List<UpstreamPool> pools = new ArrayList<>();

    @BeforeEach
    void startFakes() {
        for (String name : NAMES) {
            fakes.put(name, FakeOllama.start(MODEL).recording(false).reply(FakeOllama.Reply.tokens(name)));
        }
    }

    @AfterEach
    void stop() {
        pools.forEach(UpstreamPool::close);
        fakes.values().forEach(FakeOllama::close);
    }

    private UpstreamPool pool(int size) {
        return pool(size, FAST);
    }

    private UpstreamPool pool(int size, PoolSettings settings) {
        return pool(size, settings, Duration.ofSeconds(10));
    }

    private UpstreamPool pool(int size, PoolSettings settings, Duration tokenTimeout) {
        Map<String, ModelEngine> members = new LinkedHashMap<>();
        for (String name : NAMES.subList(0, size)) {
            URI url = fakes.get(name).baseUri();
            members.put(url.toString(), new OllamaEngine(url, MODEL, tokenTimeout));
        }
        UpstreamPool pool = new UpstreamPool(members, settings, recorder());
        pools.add(pool);
        return pool;
    }

    private PoolListener recorder() {
        return new PoolListener() {
            @Override
            public void moved(String key, String from, String to, String why) {
                events.add("moved " + key + " " + why);
            }

            @Override
            public void retried(String key, String from, String to, String why) {
                events.add("retried " + key);
            }

            @Override
            public void down(String upstream, String why) {
                events.add("down " + upstream);
            }

            @Override
            public void up(String upstream) {
                events.add("up " + upstream);
            }
        };
    }

    private static List<ChatMessage> turn(String text) {
        return List.of(ChatMessage.system("You are brief."), ChatMessage.user(text));
    }

    /** The name of the upstream that served one turn of {@code conversation}. */
    private static String served(ModelEngine engine, String conversation) throws Exception {
        return engine.generate(conversation, turn("hi"), GenerationOptions.DEFAULTS, d -> { })
                .result().get(10, TimeUnit.SECONDS).text();
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
            Thread.onSpinWait();
            Thread.sleep(5); // polling an observable condition with a deadline, not a synchronisation by time
        }
    }

    private UpstreamStatus status(UpstreamPool pool, String name) {
        String url = fakes.get(name).baseUri().toString();
        return pool.upstreams().stream().filter(u -> u.name().equals(url)).findFirst().orElseThrow();
    }

    @Test
    void oneUrlIsTheEngineItselfWithoutAPool() {
        URI url = fakes.get("A").baseUri();
        List<ModelEngine> made = new ArrayList<>();
        ModelEngine engine = UpstreamPool.of(List.of(url), u -> {
            ModelEngine e = new OllamaEngine(u, MODEL, Duration.ofSeconds(5));
            made.add(e);
            return e;
        });
        try (engine) {
            assertSame(made.getFirst(), engine);
            assertInstanceOf(OllamaEngine.class, engine);
        }
    }

    @Test
    void everyConversationStaysOnOneUpstreamAndConversationsSpread() throws Exception {
        UpstreamPool pool = pool(3);
        Map<String, Set<String>> upstreamsOf = new HashMap<>();
        Map<String, Integer> conversationsOn = new HashMap<>();
        for (int c = 0; c < 100; c++) {
            Set<String> seen = new HashSet<>();
            for (int t = 0; t < 5; t++) {
                seen.add(served(pool, "conv-" + c));
            }
            upstreamsOf.put("conv-" + c, seen);
            conversationsOn.merge(seen.iterator().next(), 1, Integer::sum);
        }
        upstreamsOf.forEach((c, seen) -> assertEquals(1, seen.size(), c + " was served by " + seen));
        assertEquals(Set.of("A", "B", "C"), conversationsOn.keySet());
        conversationsOn.forEach((name, n) -> assertTrue(n >= 15 && n <= 55, name + " got " + n + " of 100"));
        assertTrue(events.isEmpty(), "no conversation moved: " + events);
    }

    @Test
    void callsWithoutAConversationArePlacedByTheirSystemPrompt() throws Exception {
        UpstreamPool pool = pool(3);
        Set<String> oneAgent = new HashSet<>();
        Set<String> manyAgents = new HashSet<>();
        for (int i = 0; i < 20; i++) {
            List<ChatMessage> call = List.of(ChatMessage.system("You are agent 7."), ChatMessage.user("question " + i));
            oneAgent.add(pool.generate(call, GenerationOptions.DEFAULTS, d -> { }).result().get(10, TimeUnit.SECONDS).text());
            List<ChatMessage> other = List.of(ChatMessage.system("You are agent " + i + "."), ChatMessage.user("q"));
            manyAgents.add(pool.generate(other, GenerationOptions.DEFAULTS, d -> { }).result().get(10, TimeUnit.SECONDS).text());
        }
        assertEquals(1, oneAgent.size(), "one agent's calls share an upstream: " + oneAgent);
        assertEquals(3, manyAgents.size(), "twenty agents use every upstream: " + manyAgents);
    }

    @Test
    void activeStreamsStayWithinTheBoundUnderASkewedLoad() throws Exception {
        UpstreamPool pool = pool(3);
        CountDownLatch release = new CountDownLatch(1);
        for (FakeOllama fake : fakes.values()) {
            fake.reply(ex -> FakeOllama.Reply.tokens("x").gate(i -> release.await()));
        }
        List<Generation> running = new ArrayList<>();
        // skewed: sixty streams of two conversations
        for (int i = 0; i < 60; i++) {
            running.add(pool.generate("hot-" + (i % 2), turn("t" + i), GenerationOptions.DEFAULTS, d -> { }));
        }
        int bound = (int) Math.ceil(1.25 * 60 / 3);
        int total = 0;
        int busiest = 0;
        for (UpstreamStatus u : pool.upstreams()) {
            assertTrue(u.streamsActive() <= bound, u.name() + " runs " + u.streamsActive() + " > " + bound);
            total += u.streamsActive();
            busiest = Math.max(busiest, u.streamsActive());
        }
        assertEquals(60, total);
        assertEquals(bound, busiest, "the hot conversations' first choice is filled up to the bound, no further");
        assertTrue(events.stream().anyMatch(e -> e.endsWith("above the load bound")), events.toString());
        release.countDown();
        for (Generation g : running) {
            assertEquals("x", g.result().get(10, TimeUnit.SECONDS).text());
        }
        await(() -> pool.upstreams().stream().allMatch(u -> u.streamsActive() == 0), "streams to end");
    }

    @Test
    void anUpstreamKilledMidRunFailsOnlyTurnsThatStreamedAndComesBack() throws Exception {
        // a looser bound, so that two streams may run on B while the others idle
        UpstreamPool pool = pool(3, new PoolSettings(3.0, 3, Duration.ofMinutes(5), Duration.ofMillis(50),
                Duration.ofMillis(200)));
        Map<String, List<String>> homedOn = new HashMap<>();
        for (int c = 0; c < 60; c++) {
            homedOn.computeIfAbsent(served(pool, "conv-" + c), k -> new ArrayList<>()).add("conv-" + c);
        }
        List<String> onB = homedOn.get("B");
        assertTrue(onB.size() >= 3, "B has conversations: " + homedOn);
        FakeOllama b = fakes.get("B");
        int port = b.port();
        CountDownLatch firstTokenSent = new CountDownLatch(1);
        CountDownLatch never = new CountDownLatch(1);
        b.reply(ex -> ex.json().toString().contains("streaming")
                ? FakeOllama.Reply.tokens("B", "B2").gate(i -> {
                    if (i == 1) {
                        firstTokenSent.countDown();
                        never.await();
                    }
                })
                : FakeOllama.Reply.tokens("B").gate(i -> never.await()));
        CountDownLatch clientGotToken = new CountDownLatch(1);
        Generation streaming = pool.generate(onB.get(0), turn("streaming"), GenerationOptions.DEFAULTS,
                d -> clientGotToken.countDown());
        Generation notYet = pool.generate(onB.get(1), turn("waiting"), GenerationOptions.DEFAULTS, d -> { });
        assertTrue(clientGotToken.await(10, TimeUnit.SECONDS));
        await(() -> status(pool, "B").streamsActive() == 2, "both turns to run on B");

        b.close();

        ExecutionException failed = assertThrows(ExecutionException.class,
                () -> streaming.result().get(10, TimeUnit.SECONDS));
        assertInstanceOf(EngineException.class, failed.getCause(), "a turn that streamed fails as today");
        String rescued = notYet.result().get(10, TimeUnit.SECONDS).text();
        assertTrue(Set.of("A", "C").contains(rescued), "the turn that had not streamed was served by " + rescued);
        assertTrue(events.contains("retried " + onB.get(1)), events.toString());
        for (String c : onB) {
            assertNotEquals("B", served(pool, c));
        }
        assertTrue(!status(pool, "B").up());

        fakes.put("B", FakeOllama.startOn(port, MODEL).recording(false).reply(FakeOllama.Reply.tokens("B")));
        await(() -> status(pool, "B").up(), "probes to bring B back");
        assertTrue(events.contains("up " + fakes.get("B").baseUri()), events.toString());
        for (String c : onB) {
            assertEquals("B", served(pool, c), c + " returns to B");
        }
        int newOnB = 0;
        for (int c = 0; c < 60; c++) {
            newOnB += served(pool, "new-" + c).equals("B") ? 1 : 0;
        }
        assertTrue(newOnB >= 8, "B takes new conversations again: " + newOnB + " of 60");
    }

    @Test
    void upstreamErrorsAreRetriedAndTakeTheUpstreamOutAfterThreeInARow() throws Exception {
        UpstreamPool pool = pool(3);
        Map<String, List<String>> homedOn = new HashMap<>();
        for (int c = 0; c < 60; c++) {
            homedOn.computeIfAbsent(served(pool, "conv-" + c), k -> new ArrayList<>()).add("conv-" + c);
        }
        fakes.get("A").reply(FakeOllama.Reply.tokens("A").httpError(500, "out of memory"));
        List<String> onA = homedOn.get("A");
        for (int i = 0; i < 3; i++) {
            assertTrue(Set.of("B", "C").contains(served(pool, onA.get(i))));
        }
        // the event, not status(): with a 50 ms backoff the probe (A's /api/tags answers) may already have brought
        // A back by the time this line runs on a slow machine
        assertTrue(events.contains("down " + fakes.get("A").baseUri()), "three 500s in a row take A out: " + events);
        assertEquals(3, status(pool, "A").failures());
        assertEquals(3, events.stream().filter(e -> e.startsWith("retried")).count(), events.toString());
    }

    @Test
    void anUpstreamSilentBeforeItsFirstTokenIsLeftForTheNextOne() throws Exception {
        UpstreamPool pool = pool(3, FAST, Duration.ofSeconds(1));
        Map<String, List<String>> homedOn = new HashMap<>();
        for (int c = 0; c < 60; c++) {
            homedOn.computeIfAbsent(served(pool, "conv-" + c), k -> new ArrayList<>()).add("conv-" + c);
        }
        fakes.get("C").reply(FakeOllama.Reply.tokens("C").stallBeforeHeaders());
        String conversation = homedOn.get("C").getFirst();
        assertTrue(Set.of("A", "B").contains(served(pool, conversation)), "served after C's token timeout");
        assertTrue(events.contains("retried " + conversation), events.toString());
        assertEquals(1, status(pool, "C").failures(), "the silence counts against C");
    }

    @Test
    void aFourthUpstreamTakesAboutAQuarterOfTheConversationsAndNoMore() throws Exception {
        UpstreamPool three = pool(3);
        UpstreamPool four = pool(4);
        int moved = 0;
        for (int c = 0; c < 400; c++) {
            String before = served(three, "conv-" + c);
            String after = served(four, "conv-" + c);
            if (!before.equals(after)) {
                assertEquals("D", after, "a conversation moves only to the new upstream");
                moved++;
            }
        }
        assertTrue(moved >= 70 && moved <= 130, moved + " of 400 moved; a quarter is 100");
    }
}
