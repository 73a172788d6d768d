package io.streamingllm.core.engine.echo;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.Generation;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.GenerationResult;
import io.streamingllm.core.engine.TokenCounter;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EchoEngineTest {
    private static final String MESSAGE = "  Hello,\tworld!\n\nSecond   line — ünïcode 🎉 end  ";

    private static GenerationResult await(Generation g) throws Exception {
        return g.result().get(10, TimeUnit.SECONDS);
    }

    @Test
    void echoesTheLastUserMessageExactlyWordByWord() throws Exception {
        EchoEngine echo = new EchoEngine(0);
        List<ChatMessage> prompt = List.of(ChatMessage.system("You are terse."), ChatMessage.user("first question"),
                ChatMessage.assistant("first answer"), ChatMessage.user(MESSAGE));
        List<String> tokens = new CopyOnWriteArrayList<>();
        GenerationResult r = await(echo.generate(prompt, GenerationOptions.DEFAULTS, tokens::add));
        assertEquals(MESSAGE, String.join("", tokens));
        assertEquals(MESSAGE, r.text());
        assertEquals(List.of("  Hello,", "\tworld!", "\n\nSecond", "   line", " —", " ünïcode", " 🎉", " end", "  "), tokens);
        assertEquals(FinishReason.STOP, r.finishReason());
        assertEquals(tokens.size(), r.completionTokens());
        assertEquals(3 + 2 + 2 + tokens.size(), r.promptTokens(), "word tokens of every prompt message");
        assertTrue(r.promptTokensExact());
    }

    @Test
    void exactCounterCountsTheTokensItStreams() {
        TokenCounter counter = new EchoEngine(0).exactTokenCounter().orElseThrow();
        assertTrue(counter.exact());
        assertEquals(WordTokens.split(MESSAGE).size(), counter.count(MESSAGE));
        assertEquals(0, counter.count(""));
        assertEquals(1, counter.count("   "));
        assertEquals(2, counter.count("a b"));
    }

    @Test
    void noUserMessageGivesAnEmptyAnswer() throws Exception {
        GenerationResult r = await(new EchoEngine(0).generate(List.of(ChatMessage.system("sys")), GenerationOptions.DEFAULTS, d -> { }));
        assertEquals("", r.text());
        assertEquals(FinishReason.STOP, r.finishReason());
        assertEquals(0, r.completionTokens());
    }

    @Test
    void maxNewTokensCutsWithFinishReasonLength() throws Exception {
        List<String> tokens = new CopyOnWriteArrayList<>();
        GenerationResult r = await(new EchoEngine(0).generate(List.of(ChatMessage.user("one two three four five")),
                GenerationOptions.DEFAULTS.withMaxNewTokens(3), tokens::add));
        assertEquals(FinishReason.LENGTH, r.finishReason());
        assertEquals("one two three", r.text());
        assertEquals(List.of("one", " two", " three"), tokens);
        assertEquals(3, r.completionTokens());

        GenerationResult exact = await(new EchoEngine(0).generate(List.of(ChatMessage.user("one two")),
                GenerationOptions.DEFAULTS.withMaxNewTokens(2), d -> { }));
        assertEquals(FinishReason.STOP, exact.finishReason(), "the answer ended by itself at the cap");
    }

    @Test
    void cancelMidStreamKeepsThePartialText() throws Exception {
        EchoEngine echo = new EchoEngine(20);
        CountDownLatch first = new CountDownLatch(1);
        Generation g = echo.generate(List.of(ChatMessage.user("alpha beta gamma delta epsilon")), GenerationOptions.DEFAULTS,
                d -> first.countDown());
        assertTrue(first.await(10, TimeUnit.SECONDS));
        g.cancel();
        GenerationResult r = await(g);
        assertEquals(FinishReason.CANCELLED, r.finishReason());
        assertTrue("alpha beta gamma delta epsilon".startsWith(r.text()) && r.text().startsWith("alpha"), r.text());
        assertTrue(r.completionTokens() < 5);
    }

    @Test
    void cancelEndsAPerTokenWaitAtOnce() throws Exception {
        EchoEngine slow = new EchoEngine(TimeUnit.HOURS.toMillis(1));
        Generation g = slow.generate(List.of(ChatMessage.user("never sent")), GenerationOptions.DEFAULTS, d -> { });
        g.cancel();
        GenerationResult r = await(g); // would take an hour if the wait were not interrupted
        assertEquals(FinishReason.CANCELLED, r.finishReason());
        assertEquals("", r.text());
    }

    @Test
    void perTokenDelayIsHonoured() throws Exception {
        long start = System.nanoTime();
        GenerationResult r = await(new EchoEngine(25).generate(List.of(ChatMessage.user("a b c d")), GenerationOptions.DEFAULTS, d -> { }));
        long elapsed = System.nanoTime() - start;
        assertEquals("a b c d", r.text());
        assertTrue(elapsed >= Duration.ofMillis(4 * 25).toNanos(), "4 tokens x 25 ms, took " + elapsed / 1_000_000 + " ms");
    }

    @Test
    void failingSinkFailsTheGenerationWithATypedError() {
        Generation g = new EchoEngine(0).generate(List.of(ChatMessage.user("x y")), GenerationOptions.DEFAULTS, d -> {
            throw new IllegalStateException("client went away");
        });
        ExecutionException e = assertThrows(ExecutionException.class, () -> g.result().get(10, TimeUnit.SECONDS));
        EngineException ee = assertInstanceOf(EngineException.class, e.getCause());
        assertTrue(ee.getMessage().contains("client went away"));
    }

    @Test
    void alwaysReadyAndRefusesNegativeDelay() {
        assertTrue(new EchoEngine(0).health().ready());
        assertEquals("echo", new EchoEngine(0).engineName());
        assertThrows(IllegalArgumentException.class, () -> new EchoEngine(-1));
    }

    @Test
    void aStopStringEndsTheAnswerWhereItBegins() throws Exception {
        EchoEngine engine = new EchoEngine(0);
        GenerationOptions stopAtThree = new GenerationOptions(null, null, null, List.of("zzz", "three"), null, null);
        GenerationResult r = await(engine.generate(List.of(ChatMessage.user("one two three four")), stopAtThree, d -> { }));
        assertEquals("one two ", r.text());
        assertEquals(FinishReason.STOP, r.finishReason());
    }

    @Test
    void itServesOnlyTheEchoModel() {
        EchoEngine engine = new EchoEngine(0);
        engine.requireSupported(GenerationOptions.DEFAULTS);
        engine.requireSupported(GenerationOptions.DEFAULTS.withModel("echo"));
        engine.requireSupported(GenerationOptions.DEFAULTS.withModel("echo:latest"));
        EngineException other = assertThrows(EngineException.class,
                () -> engine.requireSupported(GenerationOptions.DEFAULTS.withModel("gpt-4o")));
        assertEquals(EngineException.Kind.MODEL_NOT_FOUND, other.kind());
        assertTrue(other.getMessage().contains("gpt-4o") && other.getMessage().contains("echo"), other.getMessage());
    }
}
