package io.streamingllm.local.gguf;

import static io.streamingllm.local.testing.GgufWriter.*;
import static org.junit.jupiter.api.Assertions.*;

import io.streamingllm.local.SharedModels;
import io.streamingllm.local.tensor.FloatTensor;
import io.streamingllm.local.testing.GgufWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GgufFileTest {
    @TempDir
    Path dir;

    private GgufWriter everyType() {
        GgufWriter w = new GgufWriter();
        w.put("u8", u8(250)).put("i8", i8(-5)).put("u16", u16(65000)).put("i16", i16(-30000))
                .put("u32", u32(4_000_000_000L)).put("u32small", u32(7)).put("i32", i32(-70000))
                .put("f32", f32(1.5f)).put("bool", bool(true)).put("str", str("héllo ▁"))
                .put("u64", u64(1L << 40)).put("i64", i64(-(1L << 40))).put("f64", f64(2.25))
                .put("strs", array(8, List.of(str("a"), str(""), str("ß"))))
                .put("f32s", array(6, List.of(f32(0.5f), f32(-1f))))
                .put("i32s", array(5, List.of(i32(-1), i32(3))))
                .put("u8s", array(0, List.of(u8(255), u8(0))))
                .put("i64s", array(11, List.of(i64(-2), i64(1L << 50))))
                .put("f64s", array(12, List.of(f64(0.125))))
                .put("bools", array(7, List.of(bool(false), bool(true))))
                .put("nested", array(9, List.of(array(5, List.of(i32(1), i32(2))), array(8, List.of(str("x"))))));
        return w;
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3})
    void readsEveryMetadataTypeAndMapsTensorsAtTheirAlignment(int version) throws Exception {
        GgufWriter w = everyType().version(version).alignment(64);
        float[] a = w.tensor("a", GgmlType.F32, new float[] {1, 2, 3}, 3);
        float[] b = w.tensor("b.weight", GgmlType.Q8_0, new float[64], 32, 2);
        w.tensor("c", GgmlType.F16, new float[] {0.5f, -2f}, 2);
        Path p = dir.resolve("m.gguf");
        w.write(p);
        try (GgufFile g = GgufFile.open(p)) {
            assertEquals(version, g.version());
            assertEquals(64, g.alignment());
            Map<String, Object> m = g.metadata();
            assertEquals(250, m.get("u8"));
            assertEquals(-5, m.get("i8"));
            assertEquals(65000, m.get("u16"));
            assertEquals(-30000, m.get("i16"));
            assertEquals(4_000_000_000L, m.get("u32"));
            assertEquals(7, m.get("u32small"));
            assertEquals(-70000, m.get("i32"));
            assertEquals(1.5f, m.get("f32"));
            assertEquals(true, m.get("bool"));
            assertEquals("héllo ▁", m.get("str"));
            assertEquals(1L << 40, m.get("u64"));
            assertEquals(-(1L << 40), m.get("i64"));
            assertEquals(2.25, m.get("f64"));
            assertArrayEquals(new String[] {"a", "", "ß"}, (String[]) m.get("strs"));
            assertArrayEquals(new float[] {0.5f, -1f}, (float[]) m.get("f32s"));
            assertArrayEquals(new int[] {-1, 3}, (int[]) m.get("i32s"));
            assertArrayEquals(new int[] {255, 0}, (int[]) m.get("u8s"));
            assertArrayEquals(new long[] {-2, 1L << 50}, (long[]) m.get("i64s"));
            assertArrayEquals(new double[] {0.125}, (double[]) m.get("f64s"));
            assertArrayEquals(new boolean[] {false, true}, (boolean[]) m.get("bools"));
            List<?> nested = (List<?>) m.get("nested");
            assertArrayEquals(new int[] {1, 2}, (int[]) nested.get(0));
            assertArrayEquals(new String[] {"x"}, (String[]) nested.get(1));
            assertEquals(List.of("a", "b.weight", "c"), List.copyOf(g.tensors().keySet()));
            assertEquals(0, g.dataOffset() % 64);
            GgufTensorInfo tb = g.tensor("b.weight");
            assertArrayEquals(new long[] {32, 2}, tb.shape());
            assertEquals(GgmlType.Q8_0, tb.type());
            assertEquals(68, tb.data().byteSize());
            assertArrayEquals(a, FloatTensor.of(g.tensor("a")).toArray());
            assertArrayEquals(new float[] {0.5f, -2f}, FloatTensor.of(g.tensor("c")).toArray());
            assertEquals(0, b[0]);
            GgufException missing = assertThrows(GgufException.class, () -> g.tensor("nope"));
            assertTrue(missing.getMessage().contains("missing tensor nope"));
        }
    }

    @Test
    void defaultAlignmentIs32() throws Exception {
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", "llama");
        w.tensor("a", GgmlType.F32, new float[] {1}, 1);
        w.tensor("b", GgmlType.F32, new float[] {2, 3}, 2);
        Path p = dir.resolve("m.gguf");
        w.write(p);
        try (GgufFile g = GgufFile.open(p)) {
            assertEquals(32, g.alignment());
            assertEquals(0, g.dataOffset() % 32);
            assertEquals(g.dataOffset() + 32, g.tensor("b").data().address() - g.tensor("a").data().address() + g.dataOffset());
        }
    }

    @Test
    void rejectsBadMagicAndVersions() throws Exception {
        Path p = dir.resolve("x.gguf");
        Files.write(p, "GGML\3\0\0\0".getBytes());
        assertTrue(assertThrows(GgufException.class, () -> GgufFile.open(p)).getMessage().contains("not a GGUF file"));
        Files.write(p, new byte[2]);
        assertTrue(assertThrows(GgufException.class, () -> GgufFile.open(p)).getMessage().contains("not a GGUF file"));
        for (int v : new int[] {1, 4}) {
            new GgufWriter().version(v).write(p);
            GgufException e = assertThrows(GgufException.class, () -> GgufFile.open(p));
            assertTrue(e.getMessage().contains("unsupported GGUF version " + v), e.getMessage());
        }
    }

    @Test
    void everyTruncationIsAClearError() throws Exception {
        GgufWriter w = everyType();
        w.tensor("t", GgmlType.Q4_K, new float[256], 256);
        Path full = dir.resolve("full.gguf");
        w.write(full);
        byte[] bytes = Files.readAllBytes(full);
        Path cut = dir.resolve("cut.gguf");
        for (int len = 4; len < bytes.length; len += 7) {
            Files.write(cut, Arrays.copyOf(bytes, len));
            GgufException e = assertThrows(GgufException.class, () -> GgufFile.open(cut), "length " + len);
            assertTrue(e.getMessage().contains("truncated"), len + ": " + e.getMessage());
        }
    }

    @Test
    void unsupportedTensorTypeIsNamed() throws Exception {
        Path p = dir.resolve("q41.gguf");
        new GgufWriter().rawTensor("w", 3, new byte[20], 32).write(p);
        GgufException e = assertThrows(GgufException.class, () -> GgufFile.open(p));
        assertTrue(e.getMessage().contains("Q4_1"), e.getMessage());
    }

    @Test
    void readsStories260K() throws Exception {
        try (GgufFile g = GgufFile.open(SharedModels.stories260K())) {
            assertEquals(3, g.version());
            assertEquals("llama", g.string("general.architecture"));
            assertEquals(64, g.integer("llama.embedding_length"));
            assertEquals(5, g.integer("llama.block_count"));
            assertEquals(512, ((String[]) g.metadata().get("tokenizer.ggml.tokens")).length);
            assertEquals(512, ((float[]) g.metadata().get("tokenizer.ggml.scores")).length);
            assertEquals("<s>", ((String[]) g.metadata().get("tokenizer.ggml.tokens"))[1]);
            assertEquals(48, g.tensors().size());
            assertArrayEquals(new long[] {64, 512}, g.tensor("token_embd.weight").shape());
            assertArrayEquals(new long[] {172, 64}, g.tensor("blk.4.ffn_down.weight").shape());
        }
    }
}
