package io.streamingllm.local.tensor;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/** Vector helpers shared by the tensor kernels and the attention loop. */
public final class VectorMath {
    /** The float species of every kernel and of {@link #sum} (see {@code FloatTensor}'s {@code F_SPECIES}). */
    public static final VectorSpecies<Float> FLOATS = FloatTensor.F_SPECIES;
    /** Rotations by half, quarter, … of the lanes: a fixed pairwise reduction tree of up to four steps (16 lanes). */
    private static final int STEPS = Integer.numberOfTrailingZeros(FLOATS.length());
    private static final VectorShuffle<Float> HALF = rotation(1);
    private static final VectorShuffle<Float> QUARTER = rotation(2);
    private static final VectorShuffle<Float> EIGHTH = rotation(3);
    private static final VectorShuffle<Float> SIXTEENTH = rotation(4);
    /** Adding it changes no float, -0.0 included, and gives C2 a vector whose class it knows (see the package doc). */
    private static final float NEGATIVE_ZERO = -0.0f;

    private VectorMath() {
    }

    /** The rotation by {@code FLOATS.length() >> step} lanes, or null past the tree's last step. */
    private static VectorShuffle<Float> rotation(int step) {
        if (STEPS > 4) {
            throw new IllegalStateException(FLOATS.length() + " float lanes: the lane sum has at most four steps");
        }
        int d = FLOATS.length() >> step;
        return step > STEPS ? null : VectorShuffle.fromOp(FLOATS, i -> (i + d) % FLOATS.length());
    }

    /**
     * Sum of the lanes of a {@link #FLOATS} vector in a fixed order (a pairwise tree of
     * lane-wise adds). {@code reduceLanes(ADD)} may order float additions differently in interpreted
     * and compiled code, which made the same forward pass differ in the last bits before and after the
     * JIT warmed up; this keeps results bit-for-bit reproducible and is as fast once compiled. The steps are
     * written out, not looped over an array, so that no step's vector comes round a loop (see the package doc).
     */
    public static float sum(FloatVector v) {
        FloatVector u = FloatVector.broadcast(FLOATS, NEGATIVE_ZERO).add(v);
        u = u.add(u.rearrange(HALF));
        if (STEPS > 1) {
            u = u.add(u.rearrange(QUARTER));
        }
        if (STEPS > 2) {
            u = u.add(u.rearrange(EIGHTH));
        }
        if (STEPS > 3) {
            u = u.add(u.rearrange(SIXTEENTH));
        }
        return u.lane(0);
    }
}
