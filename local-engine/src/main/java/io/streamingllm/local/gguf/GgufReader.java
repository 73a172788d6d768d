package io.streamingllm.local.gguf;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Bounds-checked little-endian reader over a mapped GGUF header: counts, strings and metadata values,
 * as {@link GgufFile} exposes them. A read past the end is a {@link GgufException} naming the file.
 *
 * <table>
 * <caption>Metadata value types</caption>
 * <tr><th>id</th><th>type</th><th>id</th><th>type</th></tr>
 * <tr><td>0</td><td>uint8</td><td>7</td><td>bool (one byte, 0 or 1)</td></tr>
 * <tr><td>1</td><td>int8</td><td>8</td><td>string</td></tr>
 * <tr><td>2</td><td>uint16</td><td>9</td><td>array: element type (uint32), length (uint64), elements</td></tr>
 * <tr><td>3</td><td>int16</td><td>10</td><td>uint64</td></tr>
 * <tr><td>4</td><td>uint32</td><td>11</td><td>int64</td></tr>
 * <tr><td>5</td><td>int32</td><td>12</td><td>float64</td></tr>
 * <tr><td>6</td><td>float32</td><td></td><td></td></tr>
 * </table>
 */
final class GgufReader {
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfDouble DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path path;
    private final MemorySegment file;
    private long pos;

    GgufReader(Path path, MemorySegment file) {
        this.path = path;
        this.file = file;
    }

    /** Bytes read so far. */
    long position() {
        return pos;
    }

    private void need(long n) {
        if (n < 0 || pos + n > file.byteSize()) {
            throw new GgufException(path + ": truncated file: needs " + n + " more bytes at offset " + pos
                    + " but the file has " + file.byteSize());
        }
    }

    int u8() {
        need(1);
        return Byte.toUnsignedInt(file.get(ValueLayout.JAVA_BYTE, pos++));
    }

    int i8() {
        need(1);
        return file.get(ValueLayout.JAVA_BYTE, pos++);
    }

    short i16() {
        need(2);
        short v = file.get(SHORT, pos);
        pos += 2;
        return v;
    }

    int i32() {
        need(4);
        int v = file.get(INT, pos);
        pos += 4;
        return v;
    }

    long i64() {
        need(8);
        long v = file.get(LONG, pos);
        pos += 8;
        return v;
    }

    /** A uint64 used as a count or size: must be non-negative and not absurdly beyond the file. */
    long u64Count(String what) {
        long v = i64();
        if (v < 0) {
            throw new GgufException(path + ": " + what + " out of range: " + Long.toUnsignedString(v));
        }
        return v;
    }

    String string() {
        long len = u64Count("string length");
        need(len);
        if (len > Integer.MAX_VALUE) {
            throw new GgufException(path + ": string of " + len + " bytes at offset " + pos);
        }
        byte[] b = file.asSlice(pos, len).toArray(ValueLayout.JAVA_BYTE);
        pos += len;
        return new String(b, StandardCharsets.UTF_8);
    }

    Object value(int type, String key) {
        return switch (type) {
            case 0 -> u8();
            case 1 -> i8();
            case 2 -> Short.toUnsignedInt(i16());
            case 3 -> (int) i16();
            case 4 -> {
                long v = Integer.toUnsignedLong(i32());
                yield v <= Integer.MAX_VALUE ? (Object) (int) v : (Object) v;
            }
            case 5 -> i32();
            case 6 -> {
                need(4);
                float f = file.get(FLOAT, pos);
                pos += 4;
                yield f;
            }
            case 7 -> {
                int b = u8();
                if (b > 1) {
                    throw new GgufException(path + ": metadata " + key + ": bool byte " + b);
                }
                yield b == 1;
            }
            case 8 -> string();
            case 9 -> array(key);
            case 10, 11 -> i64();
            case 12 -> {
                need(8);
                double d = file.get(DOUBLE, pos);
                pos += 8;
                yield d;
            }
            default -> throw new GgufException(path + ": metadata " + key + " has unknown value type " + type);
        };
    }

    private Object array(String key) {
        int type = i32();
        long n = u64Count("array length of " + key);
        // every element takes at least one byte: a length beyond the file is a truncated/corrupt file
        need(n == 0 ? 0 : Math.min(n, file.byteSize()));
        if (n > Integer.MAX_VALUE - 8) {
            throw new GgufException(path + ": metadata " + key + ": array of " + n + " elements");
        }
        int len = (int) n;
        switch (type) {
            case 0, 1, 2, 3, 5 -> {
                int[] a = new int[len];
                for (int i = 0; i < len; i++) {
                    a[i] = (Integer) value(type, key);
                }
                return a;
            }
            case 4 -> {
                long[] a = new long[len];
                boolean fitsInt = true;
                for (int i = 0; i < len; i++) {
                    a[i] = Integer.toUnsignedLong(i32());
                    fitsInt &= a[i] <= Integer.MAX_VALUE;
                }
                if (fitsInt) {
                    int[] ints = new int[len];
                    for (int i = 0; i < len; i++) {
                        ints[i] = (int) a[i];
                    }
                    return ints;
                }
                return a;
            }
            case 10, 11 -> {
                long[] a = new long[len];
                for (int i = 0; i < len; i++) {
                    a[i] = i64();
                }
                return a;
            }
            case 6 -> {
                need(4L * len);
                float[] a = file.asSlice(pos, 4L * len).toArray(FLOAT);
                pos += 4L * len;
                return a;
            }
            case 12 -> {
                need(8L * len);
                double[] a = file.asSlice(pos, 8L * len).toArray(DOUBLE);
                pos += 8L * len;
                return a;
            }
            case 7 -> {
                boolean[] a = new boolean[len];
                for (int i = 0; i < len; i++) {
                    a[i] = (Boolean) value(7, key);
                }
                return a;
            }
            case 8 -> {
                String[] a = new String[len];
                for (int i = 0; i < len; i++) {
                    a[i] = string();
                }
                return a;
            }
            case 9 -> {
                List<Object> a = new ArrayList<>(len);
                for (int i = 0; i < len; i++) {
                    a.add(array(key));
                }
                return Collections.unmodifiableList(a);
            }
            default -> throw new GgufException(path + ": metadata " + key + " has unknown array element type " + type);
        }
    }
}
