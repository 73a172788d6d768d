package io.streamingllm.local.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/** Vector helpers shared by the tensor kernels and the attention loop. */
public final class VectorMath {
    private VectorMath() {
    }

    /**
     * Sum of the lanes in a fixed order (halves added lane-wise, then the last four lanes in sequence).
     * {@code reduceLanes(ADD)} may order float additions differently in interpreted and compiled code,
     * which made the same forward pass differ in the last bits before and after the JIT warmed up; this
     * keeps results bit-for-bit reproducible (same prompt and seed, same tokens).
     */
    public static float sum(FloatVector v) {
        while (v.length() > 4) {
            VectorSpecies<Float> half = FloatVector.SPECIES_PREFERRED.withShape(VectorShape.forBitSize(v.bitSize() / 2));
            v = ((FloatVector) v.reinterpretShape(half, 0)).add((FloatVector) v.reinterpretShape(half, 1));
        }
        float s = 0;
        for (int i = 0; i < v.length(); i++) {
            s += v.lane(i);
        }
        return s;
    }
}
