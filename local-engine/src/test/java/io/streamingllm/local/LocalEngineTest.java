package io.streamingllm.local;

import static org.junit.jupiter.api.Assertions.*;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.Generation;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.GenerationResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine end to end on stories260K: chat template, streaming deltas, finish reasons, counts. */
class LocalEngineTest {
    static final String CONTINUATION = ", there was a little girl named Lily. She loved to play outside in the park. "
            + "One day, she saw a big, red ball. She wanted to play with it, but it was too high.\nLily's mom said";
    static final List<ChatMessage> ONCE = List.of(ChatMessage.user("Once upon a time"));
    static LocalEngine engine;

    @BeforeAll
    static void load() {
        Path p = SharedModels.stories260K();
        engine = LocalEngine.open("stories260K", p, 1, 4, 2048, 64);
    }

    @AfterAll
    static void close() {
        if (engine != null) {
            engine.close();
        }
    }

    private static GenerationOptions greedy(int max, List<String> stop) {
        return new GenerationOptions(0.0, max, null, stop, null, null);
    }

    private record Run(GenerationResult result, String streamed, List<String> deltas) {
    }

    private static Run run(List<ChatMessage> messages, GenerationOptions options) throws Exception {
        List<String> deltas = new CopyOnWriteArrayList<>();
        GenerationResult r = engine.generate(messages, options, deltas::add).result().get(60, TimeUnit.SECONDS);
        return new Run(r, String.join("", deltas), deltas);
    }

    @Test
    void greedyChatContinuesLikeLlamaCppAndCountsExactly() throws Exception {
        Run run = run(ONCE, greedy(64, List.of()));
        assertEquals(CONTINUATION, run.result().text());
        assertEquals(CONTINUATION, run.streamed());
        assertTrue(run.deltas().size() > 30, "streamed token by token");
        assertEquals(FinishReason.LENGTH, run.result().finishReason());
        assertEquals(5, run.result().promptTokens()); // BOS + 4 tokens
        assertEquals(64, run.result().completionTokens());
        assertTrue(run.result().promptTokensExact());
        assertEquals(4, engine.exactTokenCounter().orElseThrow().count("Once upon a time"));
        assertTrue(engine.health().ready());
        assertEquals("local", engine.engineName());
    }

    @Test
    void stopStringEndsTheTextBeforeItWithoutLeakingAPrefix() throws Exception {
        Run run = run(ONCE, greedy(64, List.of("Lily")));
        assertEquals(", there was a little girl named ", run.result().text());
        assertEquals(run.result().text(), run.streamed());
        assertEquals(FinishReason.STOP, run.result().finishReason());
    }

    @Test
    void maxNewTokensGivesLength() throws Exception {
        Run run = run(ONCE, greedy(3, List.of()));
        assertEquals(FinishReason.LENGTH, run.result().finishReason());
        assertEquals(3, run.result().completionTokens());
        assertTrue(CONTINUATION.startsWith(run.result().text()));
    }

    @Test
    void cancelStopsPromptlyWithTheTextSoFar() throws Exception {
        AtomicReference<Generation> self = new AtomicReference<>();
        List<String> deltas = new CopyOnWriteArrayList<>();
        CountDownLatch started = new CountDownLatch(1);
        Generation g = engine.generate(ONCE, greedy(64, List.of()), d -> {
            deltas.add(d);
            if (deltas.size() == 3) {
                try {
                    started.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                self.get().cancel();
            }
        });
        self.set(g);
        started.countDown();
        GenerationResult r = g.result().get(60, TimeUnit.SECONDS);
        assertEquals(FinishReason.CANCELLED, r.finishReason());
        assertEquals(String.join("", deltas), r.text());
        assertEquals(3, deltas.size());
        assertTrue(r.completionTokens() < 10);
    }

    @Test
    void concurrentGenerationsAreSerialisedAndEachIsIntact() throws Exception {
        List<String> a = new CopyOnWriteArrayList<>();
        List<String> b = new CopyOnWriteArrayList<>();
        Generation ga = engine.generate(ONCE, greedy(64, List.of()), a::add);
        Generation gb = engine.generate(ONCE, greedy(64, List.of()), b::add);
        assertEquals(CONTINUATION, ga.result().get(60, TimeUnit.SECONDS).text());
        assertEquals(CONTINUATION, gb.result().get(60, TimeUnit.SECONDS).text());
        assertEquals(CONTINUATION, String.join("", a));
        assertEquals(CONTINUATION, String.join("", b));
    }

    @Test
    void seededSamplingRepeats() throws Exception {
        GenerationOptions o = new GenerationOptions(1.0, 40, 1234L, List.of(), null, null);
        String first = run(ONCE, o).result().text();
        assertEquals(first, run(ONCE, o).result().text());
        assertNotEquals(CONTINUATION.substring(0, first.length()), first, "temperature 1 differs from greedy here");
    }

    @Test
    void aFailingSinkFailsTheGenerationWithAnEngineException() throws Exception {
        Generation g = engine.generate(ONCE, greedy(8, List.of()), d -> {
            throw new IllegalStateException("client went away");
        });
        var e = assertThrows(ExecutionException.class, () -> g.result().get(60, TimeUnit.SECONDS));
        assertInstanceOf(EngineException.class, e.getCause());
        assertTrue(e.getCause().getMessage().contains("client went away"));
    }

    @Test
    void aFileThatIsNotAModelIsAClearError(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("notes.gguf");
        Files.writeString(p, "hello");
        EngineException e = assertThrows(EngineException.class, () -> LocalEngine.open("x", p, 1, 4, 64, 8));
        assertEquals(EngineException.Kind.MODEL_NOT_FOUND, e.kind());
        assertTrue(e.getMessage().contains("not a GGUF file"), e.getMessage());
    }
}
