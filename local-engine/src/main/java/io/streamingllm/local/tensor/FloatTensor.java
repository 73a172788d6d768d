package io.streamingllm.local.tensor;

import io.streamingllm.local.gguf.GgmlType;
import io.streamingllm.local.gguf.GgufTensorInfo;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * A read-only vector of floats stored in some ggml encoding, viewed over (memory-mapped) bytes. Matrices
 * are row-major with {@code cols} values a row; a row starts at a multiple of the type's block size, so
 * {@link #dot} works block by block straight on the encoded bytes — nothing is dequantised as a whole.
 */
public abstract sealed class FloatTensor
        permits F32Tensor, F16Tensor, BF16Tensor, Q8_0Tensor, Q4_0Tensor, Q4_KTensor, Q5_KTensor, Q6_KTensor {

    static final ValueLayout.OfFloat F32_LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64_LE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfInt I32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    /**
     * The JVM's preferred float species, or 256-bit when that has fewer than 8 lanes: with 128-bit vectors (NEON,
     * {@code -XX:MaxVectorSize=16}) there is no byte species for four lanes ({@link #B_SPECIES}), so the kernels
     * take 256-bit species, which such a JVM runs without vector instructions (15-150x slower: stories260K decode
     * 213 against 3,858 tok/s, the 100M Q8_0 model 0.9 against 127, -XX:MaxVectorSize=16 on an AVX-512 host; see
     * {@link #nativeVectors}).
     */
    static final VectorSpecies<Float> F_SPECIES = FloatVector.SPECIES_PREFERRED.length() >= 8
            ? FloatVector.SPECIES_PREFERRED : FloatVector.SPECIES_256;
    /** Bytes species with as many lanes as {@link #F_SPECIES}: one byte load widens to one float vector. */
    static final VectorSpecies<Byte> B_SPECIES = ByteVector.SPECIES_PREFERRED.withShape(
            VectorShape.forBitSize(F_SPECIES.length() * 8));

    /** Int lanes, as many as {@link #F_SPECIES}: for bit work on widened quant bytes. */
    static final VectorSpecies<Integer> I_SPECIES = IntVector.SPECIES_PREFERRED.withShape(F_SPECIES.vectorShape());

    /** 16-bit lanes, as many as {@link #F_SPECIES}: one load of F16/BF16 values widens to one float vector. */
    static final VectorSpecies<Short> S_SPECIES = ShortVector.SPECIES_PREFERRED.withShape(
            VectorShape.forBitSize(F_SPECIES.length() * 16));

    /**
     * 16-bit lanes filling a {@link #F_SPECIES}-sized register (twice its lanes): the integer kernels multiply
     * 8-bit quants widened to shorts, then add each pair of neighbouring products into one int lane, which
     * leaves as many int lanes as float lanes. A block of 32 takes one, two or four of these vectors.
     */
    static final VectorSpecies<Short> WIDE_S_SPECIES = ShortVector.SPECIES_PREFERRED.withShape(F_SPECIES.vectorShape());

    /** Byte lanes as many as {@link #WIDE_S_SPECIES}: one load of quants widens to one short vector. */
    static final VectorSpecies<Byte> WIDE_B_SPECIES = ByteVector.SPECIES_PREFERRED.withShape(
            VectorShape.forBitSize(WIDE_S_SPECIES.length() * 8));

    protected final MemorySegment data;
    protected final long size;

    protected FloatTensor(MemorySegment data, long size) {
        this.data = data;
        this.size = size;
    }

    /** Whether this JVM runs the kernels' vectors as vector instructions (false with 128-bit vectors). */
    public static boolean nativeVectors() {
        return F_SPECIES == FloatVector.SPECIES_PREFERRED;
    }

    /** Wraps a GGUF tensor's bytes without copying. */
    public static FloatTensor of(GgufTensorInfo info) {
        return of(info.type(), info.data(), info.elementCount());
    }

    public static FloatTensor of(GgmlType type, MemorySegment data, long size) {
        if (data.byteSize() < type.byteSize(size)) {
            throw new IllegalArgumentException(type + " tensor of " + size + " values needs " + type.byteSize(size)
                    + " bytes, got " + data.byteSize());
        }
        return switch (type) {
            case F32 -> new F32Tensor(data, size);
            case F16 -> new F16Tensor(data, size);
            case BF16 -> new BF16Tensor(data, size);
            case Q8_0 -> new Q8_0Tensor(data, size);
            case Q4_0 -> new Q4_0Tensor(data, size);
            case Q4_K -> new Q4_KTensor(data, size);
            case Q5_K -> new Q5_KTensor(data, size);
            case Q6_K -> new Q6_KTensor(data, size);
        };
    }

    public abstract GgmlType type();

    public long size() {
        return size;
    }

    /** One value (slow path: embeddings, norms, tests). */
    public abstract float getFloat(long index);

    /**
     * {@code sum_i this[offset + i] * x[xOffset + i]} for {@code i < n}; {@code offset} and {@code n} are
     * multiples of the block size.
     */
    public abstract float dot(long offset, float[] x, int xOffset, int n);

    /**
     * The activation form this type's integer products take ({@link ActivationFormat#FLOAT}: the type has
     * none and {@link #dotsQuantized} is not supported).
     */
    public ActivationFormat activationFormat() {
        return ActivationFormat.FLOAT;
    }

    /**
     * {@code out[r] = row r · x} for rows {@code [from, to)} of this {@code rows × cols} matrix, with {@code x}
     * in this type's {@link #activationFormat() activation form}: integer products of the weight quants and
     * the activation quants, scaled per block in float, as ggml's {@code vec_dot_*_q8_*} compute them.
     * Results depend only on the row and x, not on how rows are split into ranges.
     */
    void dotsQuantized(int from, int to, int cols, QuantizedActivations x, float[] out) {
        throw new UnsupportedOperationException(type() + " has no integer product");
    }

    /**
     * {@code out[b][r] = row r · x[b]} for rows {@code [from, to)} and every vector of the batch, each exactly as
     * {@link #dotsQuantized} computes it (a batched prefill equals token-by-token decoding bit for bit). This
     * default runs {@link #dotsQuantized} per vector; a type may share the work on its weights across the batch.
     */
    void dotsQuantizedBatch(int from, int to, int cols, QuantizedActivations[] x, int batch, float[][] out) {
        for (int b = 0; b < batch; b++) {
            dotsQuantized(from, to, cols, x[b], out[b]);
        }
    }

    /**
     * {@code out[b][r] = dot(row r, x[b])} on float activations for rows {@code [from, to)} and every vector of the
     * batch, each exactly as {@link #dot} computes it. This default runs {@link #dot} per row and vector; a type
     * may share loads across rows and vectors.
     */
    void dotsBatch(int from, int to, int cols, float[][] x, int batch, float[][] out) {
        for (int r = from; r < to; r++) {
            long offset = (long) r * cols;
            for (int b = 0; b < batch; b++) {
                out[b][r] = dot(offset, x[b], 0, cols);
            }
        }
    }

    /** Makes what {@link #dotsQuantizedBatch} reads from {@code x} beyond its activation form, before the threads start. */
    void prepareBatch(QuantizedActivations x) {
    }

    /** Decodes {@code n} values from {@code offset} into {@code out} (an embedding row, a norm weight). */
    public void copyTo(long offset, float[] out, int outOffset, int n) {
        for (int i = 0; i < n; i++) {
            out[outOffset + i] = getFloat(offset + i);
        }
    }

    public float[] toArray() {
        float[] a = new float[Math.toIntExact(size)];
        copyTo(0, a, 0, a.length);
        return a;
    }

    static float f16(MemorySegment seg, long byteOffset) {
        return Float.float16ToFloat(seg.get(I16_LE, byteOffset));
    }
}
