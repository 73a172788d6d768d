package io.streamingllm.local.model;

/**
 * Keys and values of the tokens a model attends to, per layer, in fixed slots: {@code startSize} sink
 * slots (the first tokens of the stream, kept forever) followed by a ring of {@code recentSize} slots
 * (the newest tokens). This is StreamingLLM's cache (Xiao et al., 2023): once full, appending a token
 * evicts the oldest recent token, nothing is copied, memory and per-token cost stay constant.
 *
 * <p><b>Positions within the cache.</b> The paper keeps keys before RoPE and rotates them by their
 * cache slot at every step, so that attention sees positions 0..L-1 however long the stream is. We get
 * the same scores without re-rotating the cache: RoPE scores depend only on the difference of the
 * query's and the key's rotation positions. Each key is stored rotated at its global position (the
 * count of tokens before it in the stream).
 * <ul>
 * <li>Recent keys are consecutive in the stream and end with the query's own token, so for them
 * (global query position − global key position) equals (cache query position − cache key position):
 * the query rotated at its global position gives exactly the in-cache distance.</li>
 * <li>Sink key i was the stream's token i, so it is stored rotated at i, its cache slot. For sinks the
 * query is rotated a second time, at its cache position L-1 (L = tokens in the cache, itself included):
 * again the in-cache distance L-1-i.</li>
 * </ul>
 * So each step costs two query rotations per head (O(head size)) instead of re-rotating L keys. While
 * nothing has been evicted, the cache position equals the global position, both query rotations are the
 * same and attention is exactly dense attention. After eviction it equals, up to float rounding of
 * the rotation angles, the paper's rotate-by-slot computation over [sinks + recent].
 *
 * <p>Modes: {@link #streaming} (sinks + recent), {@link #window} (recent only: streaming with no sinks)
 * and {@link #dense} (no eviction: appending past capacity throws). Not thread-safe: one generation
 * at a time uses a cache.
 */
public final class KvCache {
    private final int startSize;
    private final int recentSize;
    private final boolean evicting;
    final float[][] keys;   // [layer][slot * kvDim + i]
    final float[][] values; // [layer][slot * kvDim + i]
    private final int kvDim;
    private final int[] tokenIds; // [slot]: the id of the token held there, as recordAppended was told

    private int sinkCount;     // sink slots in use (slots 0..sinkCount-1)
    private int recentHead;    // ring index of the oldest recent token
    private int recentCount;   // recent slots in use
    private long nextPosition; // global position of the next appended token = tokens appended so far

    private KvCache(int layers, int kvDim, int startSize, int recentSize, boolean evicting) {
        if (startSize < 0 || recentSize < 0 || (long) startSize + recentSize < 1) {
            throw new IllegalArgumentException("cache sizes must be non-negative with at least one slot: start="
                    + startSize + " recent=" + recentSize);
        }
        if (evicting && recentSize < 1) {
            throw new IllegalArgumentException("a streaming cache needs at least one recent slot");
        }
        long floats = (long) (startSize + recentSize) * kvDim;
        if (floats > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("cache of " + (startSize + recentSize) + " slots × " + kvDim + " is too large");
        }
        this.startSize = startSize;
        this.recentSize = recentSize;
        this.evicting = evicting;
        this.keys = new float[layers][(int) floats];
        this.values = new float[layers][(int) floats];
        this.kvDim = kvDim;
        this.tokenIds = new int[startSize + recentSize];
    }

    /** Sinks + recent: StreamingLLM. */
    public static KvCache streaming(ModelConfig c, int startSize, int recentSize) {
        return new KvCache(c.layers(), c.kvDim(), startSize, recentSize, true);
    }

    /** Recent tokens only (the "window attention" baseline). */
    public static KvCache window(ModelConfig c, int recentSize) {
        return new KvCache(c.layers(), c.kvDim(), 0, recentSize, true);
    }

    /** No eviction: holds {@code capacity} tokens, then refuses more. */
    public static KvCache dense(ModelConfig c, int capacity) {
        return new KvCache(c.layers(), c.kvDim(), 0, capacity, false);
    }

    public int capacity() {
        return startSize + recentSize;
    }

    public int startSize() {
        return startSize;
    }

    public int recentSize() {
        return recentSize;
    }

    /** Tokens held. */
    public int length() {
        return sinkCount + recentCount;
    }

    /** Tokens appended since creation (or {@link #clear()}): the global position of the next token. */
    public long nextPosition() {
        return nextPosition;
    }

    /** True once some token has been evicted: cache positions then differ from global positions. */
    public boolean evicted() {
        return nextPosition > length();
    }

    /**
     * The most tokens one {@link #reserve} may take: what is free, and for a streaming cache at least
     * {@code recentSize} (it can always evict that many recent tokens).
     */
    public int maxBatch() {
        int free = capacity() - length();
        return evicting ? Math.max(recentSize, free) : free;
    }

    /**
     * {@link #slot}{@code (i + 1)} from {@code slot}, the slot of position {@code i}, without its division: a sink's
     * neighbour, the first recent slot after the last sink, or the next ring slot (attention walks the cache with it).
     */
    int slotAfter(int i, int slot) {
        if (i + 1 == sinkCount) {
            return startSize + recentHead;
        }
        int next = slot + 1;
        return next == startSize + recentSize ? startSize : next;
    }

    /** Physical slot of the token at cache position {@code i} (0 = oldest held, sinks first). */
    public int slot(int i) {
        if (i < 0 || i >= length()) {
            throw new IndexOutOfBoundsException("cache position " + i + " of " + length());
        }
        return i < sinkCount ? i : startSize + (recentHead + i - sinkCount) % recentSize;
    }

    /**
     * Makes room for {@code n} tokens and appends them (keys and values to be written by the caller at
     * the returned slots, layer by layer). Like the paper's {@code evict_for_space}, eviction happens
     * before the batch: the oldest recent tokens leave so that all {@code n} fit.
     *
     * @return the physical slots of the n tokens, at cache positions {@code length()-n .. length()-1}
     * @throws IllegalStateException when a dense cache is full or {@code n > maxBatch()}
     */
    public int[] reserve(int n) {
        if (n < 1 || n > maxBatch()) {
            throw new IllegalStateException(evicting
                    ? "batch of " + n + " tokens exceeds the recent window of " + recentSize
                    : "KV cache full: " + length() + " + " + n + " tokens exceed the capacity of " + capacity());
        }
        int overflow = length() + n - capacity();
        if (overflow > 0) { // only when evicting; sinks are then full
            recentHead = (recentHead + overflow) % recentSize;
            recentCount -= overflow;
        }
        int[] slots = new int[n];
        for (int k = 0; k < n; k++) {
            if (sinkCount < startSize) {
                slots[k] = sinkCount++;
            } else {
                slots[k] = startSize + (recentHead + recentCount) % recentSize;
                recentCount++;
            }
            nextPosition++;
        }
        return slots;
    }

    /** The cache's extent at one moment, to {@link #rollback} to. */
    public record Mark(int sinkCount, int recentHead, int recentCount, long nextPosition) {
    }

    public Mark mark() {
        return new Mark(sinkCount, recentHead, recentCount, nextPosition);
    }

    /**
     * Forgets the tokens appended since {@code mark}, if none was evicted meanwhile (their slots were
     * free, so the tokens held at the mark are intact).
     *
     * @return false, changing nothing, when a token was evicted since the mark
     */
    public boolean rollback(Mark mark) {
        long appended = nextPosition - mark.nextPosition();
        int grown = length() - (mark.sinkCount() + mark.recentCount());
        if (appended < 0 || appended != grown) {
            return false;
        }
        sinkCount = mark.sinkCount();
        recentHead = mark.recentHead();
        recentCount = mark.recentCount();
        nextPosition = mark.nextPosition();
        return true;
    }

    /** Forgets every token. */
    public void clear() {
        sinkCount = 0;
        recentHead = 0;
        recentCount = 0;
        nextPosition = 0;
    }

    /** How many of the held tokens are sinks (cache positions {@code 0..sinkCount-1}). */
    public int sinkCount() {
        return sinkCount;
    }

    /** How many of the held tokens are recent ones (cache positions {@code sinkCount..length-1}). */
    public int recentCount() {
        return recentCount;
    }

    public int layers() {
        return keys.length;
    }

    public int kvDim() {
        return kvDim;
    }

    /**
     * Layer {@code layer}'s keys: the backing array, {@code kvDim} floats per physical slot ({@link #slot}),
     * each key rotated at its global position. With {@link #values} it is how a cache is saved and restored.
     */
    public float[] keys(int layer) {
        return keys[layer];
    }

    /** Layer {@code layer}'s values, laid out as {@link #keys}. */
    public float[] values(int layer) {
        return values[layer];
    }

    /**
     * Records the ids of the last {@code ids.length} tokens appended, in stream order (the forward pass
     * appends keys and values only); the ids of tokens already evicted are dropped. Allocates nothing.
     */
    public void recordAppended(int[] ids) {
        long first = nextPosition - ids.length;
        for (int k = 0; k < ids.length; k++) {
            recordAt(first + k, ids[k]);
        }
    }

    /** {@link #recordAppended(int[])} for the one token appended last. */
    public void recordAppended(int id) {
        recordAt(nextPosition - 1, id);
    }

    private void recordAt(long globalPosition, int id) {
        long recentFrom = nextPosition - recentCount;
        if (globalPosition >= recentFrom) {
            tokenIds[slot(length() - (int) (nextPosition - globalPosition))] = id;
        } else if (globalPosition >= 0 && globalPosition < sinkCount) {
            tokenIds[(int) globalPosition] = id; // sink i is the stream's token i
        }
    }

    /** The id recorded for the token at cache position {@code i}. */
    public int tokenAt(int i) {
        return tokenIds[slot(i)];
    }

    /** The global position (stream index) of the token at cache position {@code i}. */
    public long positionAt(int i) {
        slot(i); // bounds
        return i < sinkCount ? i : nextPosition - length() + i;
    }

    /**
     * Makes this (cleared) cache hold {@code sinks} sink tokens and {@code recent} recent ones after
     * {@code nextPosition} tokens streamed, at cache positions 0.. in slots {@code slot(i)} (the ring starts at
     * its first slot), with the given token ids; their keys and values are then written by the caller at
     * those slots. Refuses an extent no sequence of appends could have produced.
     */
    public void restore(int sinks, int recent, long nextPosition, int[] ids) {
        int held = sinks + recent;
        boolean possible = sinks >= 0 && sinks <= startSize && recent >= 0 && recent <= recentSize
                && (recent == 0 || sinks == startSize) && nextPosition >= held && ids.length == held
                && (nextPosition == held || (evicting && held == capacity()));
        if (!possible) {
            throw new IllegalArgumentException("impossible cache extent: " + sinks + " sinks, " + recent
                    + " recent, " + nextPosition + " streamed, " + ids.length + " ids, in a cache of " + startSize
                    + " + " + recentSize);
        }
        this.sinkCount = sinks;
        this.recentHead = 0;
        this.recentCount = recent;
        this.nextPosition = nextPosition;
        for (int i = 0; i < held; i++) {
            tokenIds[slot(i)] = ids[i];
        }
    }

}
