package io.streamingllm.local.testing;

import io.streamingllm.local.gguf.GgmlType;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Writes GGUF files for tests: typed metadata of every kind, tensors quantised with {@link Quant}. */
public final class GgufWriter {
    /** A metadata value with its GGUF type id (0 uint8 … 12 float64); arrays carry the element type. */
    public record Value(int type, Object value, int elementType) {
    }

    public static Value u8(int v) { return new Value(0, v, -1); }
    public static Value i8(int v) { return new Value(1, v, -1); }
    public static Value u16(int v) { return new Value(2, v, -1); }
    public static Value i16(int v) { return new Value(3, v, -1); }
    public static Value u32(long v) { return new Value(4, v, -1); }
    public static Value i32(int v) { return new Value(5, v, -1); }
    public static Value f32(float v) { return new Value(6, v, -1); }
    public static Value bool(boolean v) { return new Value(7, v, -1); }
    public static Value str(String v) { return new Value(8, v, -1); }
    public static Value u64(long v) { return new Value(10, v, -1); }
    public static Value i64(long v) { return new Value(11, v, -1); }
    public static Value f64(double v) { return new Value(12, v, -1); }

    /** An array whose elements are {@link Value}s of {@code elementType} (9 for nested arrays). */
    public static Value array(int elementType, List<Value> elements) {
        return new Value(9, elements, elementType);
    }

    private record Tensor(String name, long[] shape, int typeId, byte[] bytes) {
    }

    private final Map<String, Value> metadata = new LinkedHashMap<>();
    private final List<Tensor> tensors = new ArrayList<>();
    private int version = 3;
    private int alignment = 32;

    public GgufWriter version(int version) {
        this.version = version;
        return this;
    }

    /** Sets {@code general.alignment} and uses it. */
    public GgufWriter alignment(int alignment) {
        this.alignment = alignment;
        metadata.put("general.alignment", u32(alignment));
        return this;
    }

    public GgufWriter put(String key, Value v) {
        metadata.put(key, v);
        return this;
    }

    public GgufWriter putString(String key, String v) {
        return put(key, str(v));
    }

    public GgufWriter putU32(String key, long v) {
        return put(key, u32(v));
    }

    public GgufWriter putF32(String key, float v) {
        return put(key, f32(v));
    }

    public GgufWriter putStrings(String key, String[] v) {
        List<Value> l = new ArrayList<>();
        for (String s : v) {
            l.add(str(s));
        }
        return put(key, array(8, l));
    }

    /**
     * Adds a tensor (shape fastest-varying first), quantised; returns the values the engine will see
     * (the dequantised ones).
     */
    public float[] tensor(String name, GgmlType type, float[] values, long... shape) {
        byte[] bytes = Quant.quantize(type, values);
        tensors.add(new Tensor(name, shape, type.id(), bytes));
        return Quant.dequantize(type, bytes, values.length);
    }

    /** Adds a tensor, quantised, without decoding it back (large generated models). */
    public GgufWriter add(String name, GgmlType type, float[] values, long... shape) {
        tensors.add(new Tensor(name, shape, type.id(), Quant.quantize(type, values)));
        return this;
    }

    /** Adds raw tensor bytes under any ggml type id (to test unsupported types). */
    public GgufWriter rawTensor(String name, int typeId, byte[] bytes, long... shape) {
        tensors.add(new Tensor(name, shape, typeId, bytes));
        return this;
    }

    public void write(Path path) throws IOException {
        ByteBuffer header = ByteBuffer.allocate(1 << 22).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(0x46554747).putInt(version).putLong(tensors.size()).putLong(metadata.size());
        for (Map.Entry<String, Value> e : metadata.entrySet()) {
            string(header, e.getKey());
            header.putInt(e.getValue().type());
            value(header, e.getValue());
        }
        long offset = 0;
        List<Long> offsets = new ArrayList<>();
        for (Tensor t : tensors) {
            string(header, t.name());
            header.putInt(t.shape().length);
            for (long d : t.shape()) {
                header.putLong(d);
            }
            header.putInt(t.typeId());
            header.putLong(offset);
            offsets.add(offset);
            offset = align(offset + t.bytes().length);
        }
        int headerEnd = header.position();
        int pad = (int) (align(headerEnd) - headerEnd);
        try (OutputStream out = Files.newOutputStream(path)) {
            out.write(header.array(), 0, headerEnd);
            out.write(new byte[pad]);
            long written = 0;
            for (int i = 0; i < tensors.size(); i++) {
                out.write(new byte[(int) (offsets.get(i) - written)]);
                out.write(tensors.get(i).bytes());
                written = offsets.get(i) + tensors.get(i).bytes().length;
            }
        }
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }

    private long align(long n) {
        return (n + alignment - 1) / alignment * alignment;
    }

    private static void string(ByteBuffer b, String s) {
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        b.putLong(bytes.length).put(bytes);
    }

    @SuppressWarnings("unchecked")
    private static void value(ByteBuffer b, Value v) {
        Object o = v.value();
        switch (v.type()) {
            case 0, 1 -> b.put((byte) ((Number) o).intValue());
            case 2, 3 -> b.putShort((short) ((Number) o).intValue());
            case 4, 5 -> b.putInt((int) ((Number) o).longValue());
            case 6 -> b.putFloat((Float) o);
            case 7 -> b.put((byte) ((Boolean) o ? 1 : 0));
            case 8 -> string(b, (String) o);
            case 9 -> {
                List<Value> elements = (List<Value>) o;
                b.putInt(v.elementType()).putLong(elements.size());
                for (Value e : elements) {
                    value(b, e); // a nested array is written as its element type, count, elements
                }
            }
            case 10, 11 -> b.putLong(((Number) o).longValue());
            case 12 -> b.putDouble((Double) o);
            default -> throw new IllegalArgumentException("type " + v.type());
        }
    }
}
