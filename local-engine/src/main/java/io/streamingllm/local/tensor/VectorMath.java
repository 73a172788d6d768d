package io.streamingllm.local.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/** Vector helpers shared by the tensor kernels and the attention loop. */
public final class VectorMath {
    /** The float species of every kernel and of {@link #sum} (see {@code FloatTensor}'s {@code F_SPECIES}). */
    public static final VectorSpecies<Float> FLOATS = FloatTensor.F_SPECIES;
    /** Rotations by half, quarter, … of the lanes: a fixed pairwise reduction tree. */
    private static final VectorShuffle<Float>[] TREE = tree();

    private VectorMath() {
    }

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] tree() {
        int steps = Integer.numberOfTrailingZeros(FLOATS.length());
        VectorShuffle<Float>[] s = new VectorShuffle[steps];
        for (int k = 0; k < steps; k++) {
            int d = FLOATS.length() >> (k + 1);
            s[k] = VectorShuffle.fromOp(FLOATS, i -> (i + d) % FLOATS.length());
        }
        return s;
    }

    /**
     * Sum of the lanes of a {@link #FLOATS} vector in a fixed order (a pairwise tree of
     * lane-wise adds). {@code reduceLanes(ADD)} may order float additions differently in interpreted
     * and compiled code, which made the same forward pass differ in the last bits before and after the
     * JIT warmed up; this keeps results bit-for-bit reproducible and is as fast once compiled.
     */
    public static float sum(FloatVector v) {
        for (VectorShuffle<Float> s : TREE) {
            v = v.add(v.rearrange(s));
        }
        return v.lane(0);
    }
}
