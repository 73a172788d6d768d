package io.streamingllm.local.json;

import io.streamingllm.local.model.Sampler;
import java.util.Arrays;

/**
 * One generation's JSON constraint: before each token the vocabulary is masked to the tokens that keep the
 * text a prefix of an allowed value <em>and</em> leave few enough bytes to close it within the tokens left
 * (every byte of the shortest completion exists as a one-byte token, so bytes bound tokens), then the
 * sampler draws among them; once the value is complete the generation ends. The mask is found by walking the
 * vocabulary's byte trie with the automaton's state copied level by level, skipping every subtree whose
 * prefix is refused; inside a free string the tokens of plain text are taken as one precomputed set. Nothing
 * is allocated per token.
 *
 * <p>Not thread-safe: one generation uses it, on the engine's worker.
 */
public final class JsonConstraint {
    private final JsonMachine machine;
    private final TokenTrie vocab;
    private final int[] stopTokens;
    private final int[] state;
    private final int[][] levels;
    private final long[] mask;

    JsonConstraint(JsonGrammar grammar, TokenTrie vocab, int[] stopTokens) {
        this.machine = new JsonMachine(grammar);
        this.vocab = vocab;
        this.stopTokens = stopTokens.clone();
        this.state = machine.start();
        this.levels = new int[vocab.maxBytes + 1][JsonMachine.STATE_INTS];
        this.mask = new long[vocab.plain.length];
    }

    /**
     * Masks {@code logits} (setting refused tokens to -∞) for the next token, with {@code remaining} tokens
     * left including it, and draws it with {@code sampler}.
     */
    public int choose(float[] logits, Sampler sampler, int remaining) {
        allowed(remaining);
        if (machine.canEnd(state)) {
            for (int t : stopTokens) {
                mask[t >>> 6] |= 1L << t;
            }
        }
        int n = logits.length;
        for (int t = 0; t < n; t++) {
            if (t >= vocab.vocabSize || (mask[t >>> 6] & (1L << t)) == 0) {
                logits[t] = Float.NEGATIVE_INFINITY;
            }
        }
        int token = sampler.sample(logits);
        if (token >= vocab.vocabSize || (mask[token >>> 6] & (1L << token)) == 0) {
            token = best(logits); // a draw that rounded onto a refused token (zero weight)
        }
        return token;
    }

    /** Reads the token chosen (a stop token adds nothing). */
    public void accept(int token) {
        byte[] b = token < vocab.vocabSize ? vocab.bytes[token] : null;
        if (b == null) {
            return;
        }
        for (byte x : b) {
            if (!machine.step(state, x & 0xFF)) {
                throw new IllegalStateException("token " + token + " breaks the JSON constraint");
            }
        }
    }

    /** The value is complete: the generation ends here. */
    public boolean mustEnd() {
        return machine.mustEnd(state);
    }

    /** The fewest tokens that still complete the value (each byte of the shortest completion has its own token). */
    public int leastTokens() {
        return machine.cost(state);
    }

    private int best(float[] logits) {
        int best = -1;
        for (int t = 0; t < Math.min(logits.length, vocab.vocabSize); t++) {
            if ((mask[t >>> 6] & (1L << t)) != 0 && (best < 0 || logits[t] > logits[best])) {
                best = t;
            }
        }
        if (best < 0) {
            throw new IllegalStateException("no token continues the JSON value");
        }
        return best;
    }

    /** Fills {@code mask} with the tokens allowed next. */
    void allowed(int remaining) {
        Arrays.fill(mask, 0);
        int budget = remaining - 1; // bytes (at most tokens) that may follow the next token
        int now = machine.cost(state);
        // a token can raise the cost by at most maxBytes × maxJump: below that margin each one is checked
        boolean steer = (long) budget - now < (long) vocab.maxBytes * machine.g.maxJump;
        System.arraycopy(state, 0, levels[0], 0, JsonMachine.length(state));
        TokenTrie.Walk walk = vocab.all;
        if (machine.inFreeString(state) && now <= budget) {
            System.arraycopy(vocab.plain, 0, mask, 0, mask.length); // plain text never raises the cost
            walk = vocab.special;
        }
        int node = walk.firstChild[TokenTrie.ROOT];
        int d = 1;
        while (node >= 0) {
            int[] from = levels[d - 1], to = levels[d];
            System.arraycopy(from, 0, to, 0, JsonMachine.length(from));
            boolean descend = false;
            if (machine.step(to, walk.nodeByte[node] & 0xFF)) {
                if (walk.tokenEnd[node] > walk.tokenStart[node] && (!steer || machine.cost(to) <= budget)) {
                    for (int k = walk.tokenStart[node]; k < walk.tokenEnd[node]; k++) {
                        int t = walk.tokens[k];
                        mask[t >>> 6] |= 1L << t;
                    }
                }
                descend = walk.firstChild[node] >= 0;
            }
            if (descend) {
                node = walk.firstChild[node];
                d++;
                continue;
            }
            while (node > TokenTrie.ROOT && walk.nextSibling[node] < 0) {
                node = walk.parent[node];
                d--;
            }
            node = node > TokenTrie.ROOT ? walk.nextSibling[node] : -1;
        }
    }

    /** Whether token {@code t} was allowed by the last {@link #choose}. */
    boolean wasAllowed(int t) {
        return (mask[t >>> 6] & (1L << t)) != 0;
    }
}
