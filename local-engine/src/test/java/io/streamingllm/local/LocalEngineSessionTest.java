package io.streamingllm.local;

import static org.junit.jupiter.api.Assertions.*;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.FinishReason;
import io.streamingllm.core.engine.Generation;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.GenerationResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Sessions keep their KV cache on stories260K (trained context 512): each turn prefills only its new tokens. */
class LocalEngineSessionTest {
    static LocalEngine engine;

    @BeforeAll
    static void load() {
        engine = LocalEngine.open("stories260K", SharedModels.stories260K(), 1, 4, 124, 12, 4);
    }

    @AfterAll
    static void close() {
        if (engine != null) {
            engine.close();
        }
    }

    private static GenerationResult turn(String session, List<ChatMessage> prompt, long seed) throws Exception {
        return engine.generate(session, prompt, new GenerationOptions(1.0, 12, seed, List.of(), null, null), d -> { })
                .result().get(60, TimeUnit.SECONDS);
    }

    /** The prompt ChatService sends: system, the newest few exchanges, the new user message. */
    private static List<ChatMessage> windowed(List<ChatMessage> history, String user) {
        List<ChatMessage> p = new ArrayList<>();
        p.add(ChatMessage.system("Stories for a child."));
        p.addAll(history.subList(Math.max(0, history.size() - 6), history.size()));
        p.add(ChatMessage.user(user));
        return p;
    }

    @Test
    void hundredsOfTurnsPrefillOnlyTheirNewTokensAndStreamPastTheTrainedContext() throws Exception {
        String key = "conv-long";
        List<ChatMessage> history = new ArrayList<>();
        int maxPrefill = 0;
        for (int t = 0; t < 200; t++) {
            String user = "Tom saw a dog number " + t + ".";
            GenerationResult r = turn(key, windowed(history, user), t);
            assertNotEquals(FinishReason.CANCELLED, r.finishReason());
            if (t == 0) {
                assertTrue(r.promptTokensExact(), "the first turn prefills the whole prompt");
            } else {
                assertFalse(r.promptTokensExact(), "turn " + t + " continues the cached session");
                maxPrefill = Math.max(maxPrefill, r.promptTokens());
            }
            history.add(ChatMessage.user(user));
            history.add(ChatMessage.assistant(r.text()));
        }
        // the new user message (about 10 tokens here) plus at most the answer's last token: flat, whatever the turn
        int userTokens = engine.tokenizer().encode("\nTom saw a dog number 199.").length;
        assertTrue(maxPrefill <= userTokens + 1, "prefill per turn " + maxPrefill + " > " + (userTokens + 1));
        LocalEngine.SessionStats s = engine.session(key).orElseThrow();
        assertTrue(s.streamedTokens() > 4 * engine.config().contextLength(),
                "streamed " + s.streamedTokens() + " tokens, well past the trained context");
        assertEquals(128, s.cachedTokens(), "the cache stays at sinks + recent");
    }

    @Test
    void aPromptThatDoesNotContinueTheSessionStartsItsCacheOver() throws Exception {
        String key = "conv-reset";
        List<ChatMessage> first = windowed(List.of(), "A cat.");
        GenerationResult a = turn(key, first, 1);
        GenerationResult b = turn(key, windowed(List.of(ChatMessage.user("A cat."), ChatMessage.assistant("something else")), "A dog."), 2);
        assertTrue(b.promptTokensExact(), "an unknown history re-prefills the whole prompt");
        assertEquals(engine.template().render(windowed(List.of(ChatMessage.user("A cat."),
                ChatMessage.assistant("something else")), "A dog.")).length, b.promptTokens());
        assertTrue(a.promptTokens() > 0);
        engine.endSession(key);
        assertTrue(engine.session(key).isEmpty());
    }

    @Test
    void aCancelledTurnRollsTheCacheBack() throws Exception {
        String key = "conv-cancel";
        List<ChatMessage> history = new ArrayList<>();
        GenerationResult r0 = turn(key, windowed(history, "A bird."), 7);
        history.add(ChatMessage.user("A bird."));
        history.add(ChatMessage.assistant(r0.text()));
        LocalEngine.SessionStats before = engine.session(key).orElseThrow();

        var holder = new AtomicReference<Generation>();
        var ready = new CountDownLatch(1);
        var g = engine.generate(key, windowed(history, "A fish."), new GenerationOptions(1.0, 12, 3L, List.of(), null, null),
                d -> {
                    try {
                        assertTrue(ready.await(30, TimeUnit.SECONDS));
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                    holder.get().cancel(); // at the first delta
                });
        holder.set(g);
        ready.countDown();
        assertEquals(FinishReason.CANCELLED, g.result().get(60, TimeUnit.SECONDS).finishReason());
        assertEquals(before, engine.session(key).orElseThrow(), "the cancelled turn left no trace in the cache");

        GenerationResult r1 = turn(key, windowed(history, "A fish."), 8);
        assertFalse(r1.promptTokensExact(), "the next turn still continues the session");
    }
}
