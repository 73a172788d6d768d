package io.streamingllm.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.EngineException;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.Generation;
import io.streamingllm.core.engine.GenerationOptions;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Closing the engine leaves no caller waiting: the running generation is cancelled, queued ones fail. */
class LocalEngineCloseTest {
    private static final GenerationOptions GREEDY = new GenerationOptions(0.0, 64, null, List.of(), null, null);
    private static final List<ChatMessage> ONCE = List.of(ChatMessage.user("Once upon a time"));

    @Test
    void closeCancelsTheRunningGenerationAndFailsTheQueuedOnes() throws Exception {
        LocalEngine engine = LocalEngine.open("stories260K", SharedModels.stories260K(), 1, 4, 256, 64);
        CountDownLatch inListener = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Generation first = engine.generate(ONCE, GREEDY, d -> {
            inListener.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException("interrupted in the listener", e);
            }
        });
        assertTrue(inListener.await(60, TimeUnit.SECONDS));
        Generation queued1 = engine.generate(ONCE, GREEDY, d -> { });
        Generation queued2 = engine.generate("s", ONCE, GREEDY, d -> { });
        CompletableFuture<Void> closing = CompletableFuture.runAsync(engine::close);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!((LocalGeneration) first).cancelled()) { // close() cancels the running generation first
            assertTrue(System.nanoTime() < deadline, "close() did not cancel the running generation");
            Thread.onSpinWait();
        }
        release.countDown();

        assertEquals(FinishReason.CANCELLED, first.result().get(30, TimeUnit.SECONDS).finishReason());
        for (Generation g : List.of(queued1, queued2)) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> g.result().get(30, TimeUnit.SECONDS));
            assertInstanceOf(EngineException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("closed"), e.getCause().getMessage());
        }
        closing.get(30, TimeUnit.SECONDS);
        ExecutionException after = assertThrows(ExecutionException.class,
                () -> engine.generate(ONCE, GREEDY, d -> { }).result().get(30, TimeUnit.SECONDS));
        assertTrue(after.getCause().getMessage().contains("closed"));
        assertTrue(engine.session("s").isEmpty());
    }
}
