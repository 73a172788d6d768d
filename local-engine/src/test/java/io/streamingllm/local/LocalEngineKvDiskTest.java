package io.streamingllm.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamingllm.core.config.SidecarConfig;
import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.GenerationOptions;
import io.streamingllm.core.engine.GenerationResult;
import io.streamingllm.local.gguf.GgmlType;
import io.streamingllm.local.kv.KvStore;
import io.streamingllm.local.testing.RandomModel;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Conversations' KV caches saved under {@code DATA_DIR/kv} on stories260K (START 4, RECENT 124: the window
 * evicts after a few turns): restored after a restart, after a crash and when a conversation comes back to
 * memory, generating the very tokens an engine that never stopped generates; any mismatch prefills instead.
 */
class LocalEngineKvDiskTest {
    static final int START = 4, RECENT = 124;

    @TempDir
    Path dir;
    final List<LogRecord> warnings = new ArrayList<>();
    final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            warnings.add(r);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };

    final Logger julLogger = Logger.getLogger(KvStore.class.getName()); // held: JUL keeps loggers weakly

    @BeforeEach
    void listen() {
        julLogger.addHandler(capture);
    }

    @AfterEach
    void stopListening() {
        julLogger.removeHandler(capture);
    }

    private LocalEngine open(Path kvDir, int start, int recent, int maxSessions) {
        return LocalEngine.open("stories260K", SharedModels.stories260K(), 1, start, recent, 12, maxSessions,
                new LocalEngine.KvDisk(kvDir, 1L << 30));
    }

    private static GenerationResult turn(LocalEngine engine, String key, List<ChatMessage> prompt, long seed)
            throws Exception {
        return engine.generate(key, prompt, new GenerationOptions(1.0, 12, seed, List.of(), null, null), d -> { })
                .result().get(60, TimeUnit.SECONDS);
    }

    /** The prompt ChatService sends: system, the newest exchanges, the new user message. */
    private static List<ChatMessage> windowed(List<ChatMessage> history, int t) {
        List<ChatMessage> p = new ArrayList<>();
        p.add(ChatMessage.system("Stories for a child."));
        p.addAll(history.subList(Math.max(0, history.size() - 6), history.size()));
        p.add(ChatMessage.user(user(t)));
        return p;
    }

    private static String user(int t) {
        return "Tom saw a dog number " + t + ".";
    }

    /** Turns {@code from..to-1} of one conversation, adding them to {@code history}; the last result. */
    private static GenerationResult turns(LocalEngine engine, String key, List<ChatMessage> history, int from, int to)
            throws Exception {
        GenerationResult r = null;
        for (int t = from; t < to; t++) {
            r = turn(engine, key, windowed(history, t), t);
            history.add(ChatMessage.user(user(t)));
            history.add(ChatMessage.assistant(r.text()));
        }
        return r;
    }

    /** The turn after {@code turns} turns in an engine that never stopped, and its cache afterwards. */
    private record Reference(GenerationResult next, LocalEngine.SessionStats stats) {
    }

    private Reference reference(int turns) throws Exception {
        try (LocalEngine engine = LocalEngine.open("stories260K", SharedModels.stories260K(), 1, START, RECENT, 12, 4)) {
            List<ChatMessage> history = new ArrayList<>();
            turns(engine, "k", history, 0, turns);
            GenerationResult next = turn(engine, "k", windowed(history, turns), turns);
            return new Reference(next, engine.session("k").orElseThrow());
        }
    }

    @Test
    void afterARestartTheCacheIsRestoredAndGeneratesTheSameTokens() throws Exception {
        Reference ref = reference(10);
        Path data = dir.resolve("data");
        SidecarConfig config = SidecarConfig.fromEnv(Map.of(SidecarConfig.MODEL, "gguf:" + SharedModels.stories260K(),
                SidecarConfig.DATA_DIR, data.toString(), SidecarConfig.START_SIZE, "" + START,
                SidecarConfig.RECENT_SIZE, "" + RECENT, SidecarConfig.MAX_NEW_TOKENS, "12"));
        List<ChatMessage> history = new ArrayList<>();
        try (LocalEngine before = LocalEngine.open(config, Map.of(), 1)) {
            turns(before, "k", history, 0, 10);
            LocalEngine.SessionStats s = before.session("k").orElseThrow();
            assertTrue(s.streamedTokens() > s.cachedTokens(), "the window has evicted: " + s);
        } // close() saves
        assertTrue(Files.isRegularFile(data.resolve("kv").resolve("k.kv")), "saved under DATA_DIR/kv");

        try (LocalEngine after = LocalEngine.open(config, Map.of(), 1)) {
            GenerationResult next = turn(after, "k", windowed(history, 10), 10);
            assertFalse(next.promptTokensExact(), "the restored session continues: only the new message is prefilled");
            assertEquals(ref.next().promptTokens(), next.promptTokens());
            assertEquals(ref.next().text(), next.text(), "the same tokens as an engine that never stopped");
            assertEquals(ref.stats(), after.session("k").orElseThrow());
        }
        assertEquals(List.of(), warnings);
    }

    @Test
    void eachTurnIsSavedInTheBackgroundSoACrashLosesNothing() throws Exception {
        Reference ref = reference(9);
        List<ChatMessage> history = new ArrayList<>();
        LocalEngine crashed = open(dir, START, RECENT, 4);
        try {
            turns(crashed, "k", history, 0, 9);
            crashed.awaitSaved();
            // the process dies here: nothing else is written, yet the last turn is on disk
            try (LocalEngine restarted = open(dir, START, RECENT, 4)) {
                GenerationResult next = turn(restarted, "k", windowed(history, 9), 9);
                assertFalse(next.promptTokensExact());
                assertEquals(ref.next().text(), next.text());
            }
        } finally {
            crashed.close();
        }
    }

    @Test
    void aConversationThatLeftMemoryComesBackWithItsCache() throws Exception {
        Reference ref = reference(6);
        try (LocalEngine engine = open(dir, START, RECENT, 1)) { // one conversation in memory at a time
            List<ChatMessage> history = new ArrayList<>();
            turns(engine, "k", history, 0, 6);
            turns(engine, "other", new ArrayList<>(), 0, 2); // k leaves memory
            assertTrue(engine.session("k").isEmpty());
            engine.awaitSaved();
            GenerationResult next = turn(engine, "k", windowed(history, 6), 6);
            assertFalse(next.promptTokensExact(), "restored, not re-prefilled");
            assertEquals(ref.next().text(), next.text());
        }
    }

    @Test
    void otherSizesAnotherModelOrACorruptFileFallBackToPrefillWithOneLogLine() throws Exception {
        List<ChatMessage> history = new ArrayList<>();
        try (LocalEngine engine = open(dir, START, RECENT, 4)) {
            turns(engine, "k", history, 0, 3);
        }
        Path file = dir.resolve("k.kv");
        List<ChatMessage> next = windowed(history, 3);
        int whole;
        try (LocalEngine other = open(dir, START, 100, 4)) {
            GenerationResult r = turn(other, "k", next, 3);
            assertTrue(r.promptTokensExact(), "other RECENT size: the whole prompt is prefilled");
            whole = r.promptTokens();
            assertEquals(other.template().render(next).length, whole);
        }
        assertEquals(1, warnings.size(), "one line");
        assertTrue(warnings.get(0).getMessage().contains("124") && warnings.get(0).getMessage().contains("100"));

        try (LocalEngine engine = open(dir, START, RECENT, 4)) { // the file now holds the 4 + 100 session
            assertTrue(turn(engine, "k", next, 3).promptTokensExact());
        }
        assertEquals(2, warnings.size());

        Path model = dir.resolve("random.gguf");
        RandomModel.write(model, "llama", GgmlType.F32, 1);
        try (LocalEngine engine = open(dir, START, RECENT, 4)) {
            turns(engine, "r", new ArrayList<>(), 0, 1);
        }
        try (LocalEngine random = LocalEngine.open("random", model, 1, START, RECENT, 4, 4,
                new LocalEngine.KvDisk(dir, 1L << 30))) {
            GenerationResult r = turn(random, "r", List.of(ChatMessage.user("hi")), 1);
            assertTrue(r.promptTokensExact(), "a cache of another model is never used");
        }
        assertEquals(3, warnings.size());
        assertTrue(warnings.get(2).getMessage().contains("another model"), warnings.get(2).getMessage());

        try (LocalEngine engine = open(dir, START, RECENT, 4)) {
            turns(engine, "c", new ArrayList<>(), 0, 2);
        }
        Path corrupt = dir.resolve("c.kv");
        try (FileChannel ch = FileChannel.open(corrupt, StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {0x55, 0x55, 0x55, 0x55}), Files.size(corrupt) / 2);
        }
        try (LocalEngine engine = open(dir, START, RECENT, 4)) {
            assertTrue(turn(engine, "c", windowed(List.of(), 5), 5).promptTokensExact());
        }
        assertEquals(4, warnings.size());
        assertTrue(warnings.get(3).getMessage().contains("corrupt"), warnings.get(3).getMessage());
        assertTrue(Files.exists(file));
    }

    @Test
    void anArchivedConversationsFileIsDeletedAndBadIdsNeverReachTheDisk() throws Exception {
        Path kv = dir.resolve("kv");
        try (LocalEngine engine = open(kv, START, RECENT, 4)) {
            turns(engine, "gone", new ArrayList<>(), 0, 1);
            engine.awaitSaved();
            assertTrue(Files.exists(kv.resolve("gone.kv")));
            engine.endSession("gone");
            engine.awaitSaved();
            assertFalse(Files.exists(kv.resolve("gone.kv")), "endSession deletes the saved cache");

            for (String bad : List.of("../escape", "a/b", ".hidden")) {
                turns(engine, bad, new ArrayList<>(), 0, 1);
            }
            engine.awaitSaved();
        }
        try (Stream<Path> all = Files.walk(dir)) {
            assertEquals(List.of(), all.filter(Files::isRegularFile).toList(), "nothing written for bad ids");
        }
    }
}
