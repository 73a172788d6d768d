package io.streamingllm.local.kv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamingllm.core.engine.ChatMessage;
import io.streamingllm.core.engine.ToolCall;
import io.streamingllm.local.model.KvCache;
import io.streamingllm.local.model.ModelConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Saved sessions on disk: bit-for-bit round trips, every kind of mismatch refused with one log line, the budget. */
class KvStoreTest {
    static final ModelConfig CONFIG = new ModelConfig("llama", 8, 16, 3, 2, 2, 4, 512, 64, 1e-5f, 10000f, false, 4,
            new float[] {1f, 1f});
    static final byte[] MODEL_A = fingerprint(1), MODEL_B = fingerprint(2);

    @TempDir
    Path dir;
    final List<LogRecord> logged = new ArrayList<>();
    final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            logged.add(r);
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

    static byte[] fingerprint(int seed) {
        byte[] b = new byte[32];
        new Random(seed).nextBytes(b);
        return b;
    }

    /** A streaming cache of 4 sinks + 10 recent after {@code tokens} appended, with random keys and values. */
    static KvCache filled(int tokens, long seed) {
        KvCache c = KvCache.streaming(CONFIG, 4, 10);
        Random r = new Random(seed);
        int[] ids = new int[tokens];
        for (int t = 0; t < tokens; t++) {
            int slot = c.reserve(1)[0];
            for (int l = 0; l < c.layers(); l++) {
                for (int i = 0; i < c.kvDim(); i++) {
                    c.keys(l)[slot * c.kvDim() + i] = (float) r.nextGaussian();
                    c.values(l)[slot * c.kvDim() + i] = (float) r.nextGaussian();
                }
            }
            ids[t] = 3 + r.nextInt(500);
            c.recordAppended(ids[t]);
        }
        return c;
    }

    static SessionImage image(String key, KvCache c) {
        return new SessionImage(key, List.of(ChatMessage.user("héllo \"you\"\n"), ChatMessage.assistant("hi ✓")), 42, c);
    }

    static void assertSameCache(KvCache want, KvCache got) {
        assertEquals(want.length(), got.length());
        assertEquals(want.sinkCount(), got.sinkCount());
        assertEquals(want.nextPosition(), got.nextPosition());
        int kvDim = want.kvDim();
        for (int i = 0; i < want.length(); i++) {
            assertEquals(want.tokenAt(i), got.tokenAt(i), "token at " + i);
            assertEquals(want.positionAt(i), got.positionAt(i), "position at " + i);
            for (int l = 0; l < want.layers(); l++) {
                for (int j = 0; j < kvDim; j++) {
                    assertEquals(Float.floatToRawIntBits(want.keys(l)[want.slot(i) * kvDim + j]),
                            Float.floatToRawIntBits(got.keys(l)[got.slot(i) * kvDim + j]), "key bits");
                    assertEquals(Float.floatToRawIntBits(want.values(l)[want.slot(i) * kvDim + j]),
                            Float.floatToRawIntBits(got.values(l)[got.slot(i) * kvDim + j]), "value bits");
                }
            }
        }
    }

    private KvCache fresh() {
        return KvCache.streaming(CONFIG, 4, 10);
    }

    @Test
    void aSessionComesBackBitForBitWithItsTokensPositionsAndDialogue() throws IOException {
        KvStore store = KvStore.open(dir, 1 << 30, MODEL_A);
        for (int tokens : new int[] {3, 9, 14, 37}) { // sinks only, partly recent, full, evicted (ring wrapped)
            KvCache c = filled(tokens, tokens);
            store.save(image("conv-" + tokens, c));
            SessionImage back = store.load("conv-" + tokens, fresh()).orElseThrow();
            assertSameCache(c, back.cache());
            assertEquals(image("x", c).dialogue(), back.dialogue());
            assertEquals(42, back.pendingToken());
            assertEquals("conv-" + tokens, back.key());
        }
        KvCache evicted = filled(37, 37);
        assertEquals(27, evicted.positionAt(4), "the oldest recent token after 37 appended to 4 + 10");
        assertEquals(List.of(), logged, "nothing to report");
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(4, files.filter(f -> f.toString().endsWith(".kv")).count());
        }
    }

    @Test
    void aReplyWithToolCallsAndTheResultsAnsweringThemComeBackWithTheirCallsIdsAndNames() throws IOException {
        KvStore store = KvStore.open(dir, 1 << 30, MODEL_A);
        KvCache c = filled(12, 3);
        List<ChatMessage> dialogue = List.of(ChatMessage.user("weather?"),
                ChatMessage.toolCalls("checking ✓", List.of(new ToolCall("call_1", "get_weather", "{\"city\":\"Zürich\"}"),
                        new ToolCall("call_2", "get_time", "{}"))),
                ChatMessage.toolResult("call_1", "get_weather", "21 °C"), ChatMessage.toolResult("call_2", null, "noon"),
                ChatMessage.assistant("21 °C at noon"));
        store.save(new SessionImage("tools", dialogue, 7, c));
        SessionImage back = store.load("tools", fresh()).orElseThrow();
        assertEquals(dialogue, back.dialogue(), "calls, call ids and tool names survive (a null name stays null)");
        assertSameCache(c, back.cache());
        assertEquals(List.of(), logged);
    }

    @Test
    void aFileOfTheFormatBeforeToolCallsIsStillReadAndAnUnknownFormatFallsBackWithOneLogLine() throws IOException {
        KvStore store = KvStore.open(dir, 1 << 30, MODEL_A);
        KvCache c = filled(9, 4);
        store.save(new SessionImage("old", List.of(), -1, c)); // no messages: formats 1 and 2 are the same bytes
        Path f = dir.resolve("old.kv");
        rewriteFormat(f, 1);
        SessionImage back = store.load("old", fresh()).orElseThrow();
        assertSameCache(c, back.cache());
        assertEquals(List.of(), logged);

        Path future = dir.resolve("future.kv");
        store.save(new SessionImage("future", List.of(), -1, c));
        rewriteFormat(future, 3);
        assertEquals(Optional.empty(), store.load("future", fresh()));
        assertEquals(1, logged.size());
        assertTrue(logged.get(0).getMessage().contains("file format 3"), logged.get(0).getMessage());
        assertTrue(Files.exists(future), "a file of another format is left alone, not deleted as corrupt");
    }

    /** Sets the file's format field and recomputes its checksum, as an engine writing that format would. */
    private static void rewriteFormat(Path f, int format) throws IOException {
        byte[] b = Files.readAllBytes(f);
        ByteBuffer buf = ByteBuffer.wrap(b).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        buf.putInt(4, format);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(b, 0, b.length - 4);
        buf.putInt(b.length - 4, (int) crc.getValue());
        Files.write(f, b);
    }

    @Test
    void anotherModelOtherSizesOrAnotherConversationAreRefusedWithOneLogLine() throws IOException {
        KvStore a = KvStore.open(dir, 1 << 30, MODEL_A);
        a.save(image("c1", filled(20, 1)));
        KvStore b = KvStore.open(dir, 1 << 30, MODEL_B);
        assertEquals(Optional.empty(), b.load("c1", fresh()));
        assertEquals(1, logged.size());
        assertTrue(logged.get(0).getMessage().contains("c1") && logged.get(0).getMessage().contains("another model"),
                logged.get(0).getMessage());

        assertEquals(Optional.empty(), a.load("c1", KvCache.streaming(CONFIG, 4, 12)), "other RECENT size");
        assertEquals(Optional.empty(), a.load("c1", KvCache.streaming(CONFIG, 2, 10)), "other START size");
        assertEquals(3, logged.size());
        assertTrue(logged.get(2).getMessage().contains("4 + 10") && logged.get(2).getMessage().contains("2 + 10"));

        Files.copy(dir.resolve("c1.kv"), dir.resolve("c2.kv"));
        assertEquals(Optional.empty(), KvStore.open(dir, 1 << 30, MODEL_A).load("c2", fresh()));
        assertTrue(logged.get(3).getMessage().contains("saved for conversation c1"));
        assertTrue(a.load("c1", fresh()).isPresent(), "mismatches leave the file alone");
    }

    @Test
    void aCorruptOrTruncatedFileIsRefusedAndDeleted() throws IOException {
        KvStore store = KvStore.open(dir, 1 << 30, MODEL_A);
        KvCache c = filled(30, 5);
        Random r = new Random(9);
        for (int trial = 0; trial < 20; trial++) {
            store.save(image("c", c));
            Path f = dir.resolve("c.kv");
            long size = Files.size(f);
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                if (trial % 4 == 3) {
                    ch.truncate(r.nextLong(size));
                } else {
                    long at = 44 + r.nextLong(size - 44); // past the fingerprint: a flipped bit anywhere in the body
                    ByteBuffer b = ByteBuffer.allocate(1);
                    ch.read(b, at);
                    b.put(0, (byte) (b.get(0) ^ (1 << r.nextInt(8))));
                    ch.write(b.flip(), at);
                }
            }
            int before = logged.size();
            assertEquals(Optional.empty(), store.load("c", fresh()), "trial " + trial);
            assertEquals(before + 1, logged.size(), "one log line");
            assertFalse(Files.exists(f), "a damaged file is deleted");
            assertFalse(store.contains("c"));
        }
    }

    @Test
    void leftoverTempFilesAreDeletedAndIdsNeverNameAFileOutsideTheDirectory() throws IOException {
        Path kv = dir.resolve("data").resolve("kv");
        Files.createDirectories(kv);
        Files.writeString(kv.resolve("c.kv.tmp"), "half written");
        Files.writeString(kv.resolve("notes.txt"), "not ours");
        KvStore store = KvStore.open(kv, 1 << 30, MODEL_A);
        assertFalse(Files.exists(kv.resolve("c.kv.tmp")));
        assertTrue(Files.exists(kv.resolve("notes.txt")), "other files are left alone");
        for (String bad : List.of("../escape", "a/b", ".hidden", "", "x".repeat(200))) {
            assertFalse(KvStore.accepts(bad));
            assertThrows(IllegalArgumentException.class, () -> store.save(image(bad, filled(5, 1))), bad);
        }
        try (Stream<Path> all = Files.walk(dir)) {
            assertEquals(List.of(kv.resolve("notes.txt")), all.filter(Files::isRegularFile).toList());
        }
    }

    @Test
    void theBudgetDeletesTheLeastRecentlyUsedFiles() throws IOException {
        long one;
        {
            KvStore probe = KvStore.open(dir.resolve("probe"), 1 << 30, MODEL_A);
            probe.save(image("p", filled(14, 1)));
            one = probe.totalBytes();
        }
        KvStore store = KvStore.open(dir, 3 * one, MODEL_A);
        for (String k : List.of("a", "b", "c")) {
            store.save(image(k, filled(14, k.hashCode())));
        }
        Files.setLastModifiedTime(dir.resolve("a.kv"), FileTime.fromMillis(0)); // a restart reads these times
        Files.setLastModifiedTime(dir.resolve("b.kv"), FileTime.fromMillis(1000));
        Files.setLastModifiedTime(dir.resolve("c.kv"), FileTime.fromMillis(2000));
        store = KvStore.open(dir, 3 * one, MODEL_A);
        assertTrue(store.load("a", fresh()).isPresent(), "restoring a makes it the most recently used");
        store.save(image("d", filled(14, 4)));
        assertFalse(Files.exists(dir.resolve("b.kv")), "b was used longest ago");
        assertTrue(Files.exists(dir.resolve("a.kv")) && Files.exists(dir.resolve("c.kv")) && Files.exists(dir.resolve("d.kv")));
        assertEquals(3 * one, store.totalBytes());

        KvStore small = KvStore.open(dir, one / 2, MODEL_A); // a smaller budget trims at open
        assertEquals(0, small.totalBytes());
        small.save(image("e", filled(14, 5)));
        assertFalse(Files.exists(dir.resolve("e.kv")), "larger than the whole budget: not saved");
        assertTrue(logged.stream().anyMatch(r -> r.getMessage().contains("STREAMING_LLM_KV_DISK_MB")));
    }
}
