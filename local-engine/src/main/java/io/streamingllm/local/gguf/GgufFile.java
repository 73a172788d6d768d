package io.streamingllm.local.gguf;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GGUF file (versions 2 and 3), memory-mapped read-only. The header, metadata and tensor infos are
 * parsed at open; tensor data stays in the mapping ({@link GgufTensorInfo#data()} are slices of it),
 * so a multi-GiB model costs no heap. Closing unmaps the file; tensors must not be used afterwards.
 *
 * <p>Metadata values are exposed as plain Java values: uint8, int8, uint16, int16 and int32 as
 * {@link Integer}; uint32 as {@link Integer} when it fits, else {@link Long}; uint64 and int64 as
 * {@link Long}; float32 {@link Float}; float64 {@link Double}; bool {@link Boolean}; string
 * {@link String}. Arrays: string → {@code String[]}, float32 → {@code float[]}, float64 →
 * {@code double[]}, bool → {@code boolean[]}, the 8/16/32-bit integer types → {@code int[]}
 * (uint32 elements as their unsigned value truncated to int only when all fit, else {@code long[]}),
 * 64-bit integers → {@code long[]}, arrays of arrays → {@code List<Object>}.
 */
public final class GgufFile implements AutoCloseable {
    public static final int MAGIC = 0x46554747; // "GGUF" little-endian
    public static final int DEFAULT_ALIGNMENT = 32;


    private final Path path;
    private final Arena arena;
    private final int version;
    private final Map<String, Object> metadata;
    private final Map<String, GgufTensorInfo> tensors;
    private final int alignment;
    private final long dataOffset;

    private GgufFile(Path path, Arena arena, int version, Map<String, Object> metadata,
                     Map<String, GgufTensorInfo> tensors, int alignment, long dataOffset) {
        this.path = path;
        this.arena = arena;
        this.version = version;
        this.metadata = metadata;
        this.tensors = tensors;
        this.alignment = alignment;
        this.dataOffset = dataOffset;
    }

    /** Opens and maps a GGUF file; throws {@link GgufException} naming the file and the problem. */
    public static GgufFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            MemorySegment file = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            return parse(path, arena, file);
        } catch (RuntimeException | IOException e) {
            arena.close();
            throw e;
        }
    }

    private static GgufFile parse(Path path, Arena arena, MemorySegment file) {
        GgufReader c = new GgufReader(path, file);
        if (file.byteSize() < 4 || c.i32() != MAGIC) {
            throw new GgufException(path + ": not a GGUF file (bad magic)");
        }
        int version = c.i32();
        if (version != 2 && version != 3) {
            throw new GgufException(path + ": unsupported GGUF version " + version + " (supported: 2, 3)");
        }
        long tensorCount = c.u64Count("tensor count");
        long kvCount = c.u64Count("metadata count");
        Map<String, Object> metadata = new LinkedHashMap<>();
        for (long i = 0; i < kvCount; i++) {
            String key = c.string();
            int type = c.i32();
            metadata.put(key, c.value(type, key));
        }
        int alignment = DEFAULT_ALIGNMENT;
        Object a = metadata.get("general.alignment");
        if (a != null) {
            if (!(a instanceof Number n) || n.longValue() <= 0 || Long.bitCount(n.longValue()) != 1 || n.longValue() > (1 << 20)) {
                throw new GgufException(path + ": general.alignment must be a power of two, got " + a);
            }
            alignment = n.intValue();
        }
        record Raw(String name, long[] shape, int typeId, long offset) {
        }
        List<Raw> raws = new ArrayList<>();
        for (long i = 0; i < tensorCount; i++) {
            String name = c.string();
            int dims = c.i32();
            if (dims < 1 || dims > 4) {
                throw new GgufException(path + ": tensor " + name + " has " + dims + " dimensions (1 to 4 allowed)");
            }
            long[] shape = new long[dims];
            for (int d = 0; d < dims; d++) {
                shape[d] = c.u64Count("dimension of " + name);
            }
            raws.add(new Raw(name, shape, c.i32(), c.u64Count("offset of " + name)));
        }
        long dataOffset = align(c.position(), alignment);
        Map<String, GgufTensorInfo> tensors = new LinkedHashMap<>();
        for (Raw r : raws) {
            GgmlType type = GgmlType.byId(r.typeId);
            if (type == null) {
                throw new GgufException(path + ": tensor " + r.name + " has type " + GgmlType.nameOf(r.typeId)
                        + ", which this engine does not support (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q5_K, Q6_K)");
            }
            long elements = 1;
            for (long d : r.shape) {
                elements = Math.multiplyExact(elements, d);
            }
            if (r.shape[0] % type.blockSize() != 0) {
                throw new GgufException(path + ": tensor " + r.name + " row length " + r.shape[0]
                        + " is not a multiple of the " + type + " block size " + type.blockSize());
            }
            long bytes = type.byteSize(elements);
            long start = dataOffset + r.offset;
            if (r.offset % alignment != 0) {
                throw new GgufException(path + ": tensor " + r.name + " data offset " + r.offset + " is not aligned to " + alignment);
            }
            if (start + bytes > file.byteSize() || start + bytes < 0) {
                throw new GgufException(path + ": truncated file: tensor " + r.name + " needs bytes up to "
                        + (start + bytes) + " but the file has " + file.byteSize());
            }
            if (tensors.put(r.name, new GgufTensorInfo(r.name, r.shape, type, file.asSlice(start, bytes))) != null) {
                throw new GgufException(path + ": duplicate tensor " + r.name);
            }
        }
        return new GgufFile(path, arena, version, Collections.unmodifiableMap(metadata),
                Collections.unmodifiableMap(tensors), alignment, dataOffset);
    }

    static long align(long pos, int alignment) {
        return (pos + alignment - 1) / alignment * alignment;
    }

    public Path path() {
        return path;
    }

    public int version() {
        return version;
    }

    public int alignment() {
        return alignment;
    }

    /** File offset where tensor data begins. */
    public long dataOffset() {
        return dataOffset;
    }

    /** All metadata, in file order, with values as described in the class comment. */
    public Map<String, Object> metadata() {
        return metadata;
    }

    public Map<String, GgufTensorInfo> tensors() {
        return tensors;
    }

    /** The tensor, or a {@link GgufException} naming the missing tensor. */
    public GgufTensorInfo tensor(String name) {
        GgufTensorInfo t = tensors.get(name);
        if (t == null) {
            throw new GgufException(path + ": missing tensor " + name);
        }
        return t;
    }

    public String string(String key) {
        Object v = required(key);
        if (v instanceof String s) {
            return s;
        }
        throw new GgufException(path + ": metadata " + key + " is not a string: " + v);
    }

    public int integer(String key) {
        Object v = required(key);
        if (v instanceof Number n && (v instanceof Integer || v instanceof Long)) {
            return Math.toIntExact(n.longValue());
        }
        throw new GgufException(path + ": metadata " + key + " is not an integer: " + v);
    }

    public int integer(String key, int fallback) {
        return metadata.containsKey(key) ? integer(key) : fallback;
    }

    public float real(String key, float fallback) {
        Object v = metadata.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Number n) {
            return n.floatValue();
        }
        throw new GgufException(path + ": metadata " + key + " is not a number: " + v);
    }

    private Object required(String key) {
        Object v = metadata.get(key);
        if (v == null) {
            throw new GgufException(path + ": missing metadata " + key);
        }
        return v;
    }

    @Override
    public void close() {
        arena.close();
    }
}
