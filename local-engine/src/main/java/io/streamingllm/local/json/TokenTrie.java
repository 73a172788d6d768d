package io.streamingllm.local.json;

import io.streamingllm.local.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * A model's vocabulary as a byte trie, built once: the bytes each token adds to generated text
 * ({@link Tokenizer#decodeBytes}), so that a search can test every token against a {@link JsonMachine} state
 * while walking shared prefixes once and skipping whole subtrees at the first byte they are refused. Control
 * and unknown tokens, and tokens with no bytes, are left out (never allowed in JSON).
 *
 * <p>Two tries: every token, and only the tokens that are not "plain string text" — text that keeps a JSON
 * string open unchanged (no quote, backslash or control byte, whole UTF-8 characters); inside a string
 * without a length bound, the plain ones ({@link #plain}) are allowed as a set and only the others are
 * searched. Nodes are in preorder with first-child/next-sibling links. Immutable.
 */
final class TokenTrie {
    static final int ROOT = 0;

    final int vocabSize;
    final byte[][] bytes;   // by token id; null for tokens left out
    final long[] plain;     // bit set of plain-string-text tokens
    final Walk all, special;
    final int maxBytes;
    /** Whether some token is exactly this one byte. */
    final boolean[] singleByte = new boolean[256];

    /** One trie: {@code nodeByte}, links, and the token ids ending at each node. */
    static final class Walk {
        final byte[] nodeByte;
        final int[] firstChild, nextSibling, parent, tokenStart, tokenEnd, tokens;

        Walk(byte[] nodeByte, int[] firstChild, int[] nextSibling, int[] parent, int[] tokenStart, int[] tokenEnd,
             int[] tokens) {
            this.nodeByte = nodeByte;
            this.firstChild = firstChild;
            this.nextSibling = nextSibling;
            this.parent = parent;
            this.tokenStart = tokenStart;
            this.tokenEnd = tokenEnd;
            this.tokens = tokens;
        }
    }

    TokenTrie(Tokenizer tokenizer) {
        vocabSize = tokenizer.vocabSize();
        bytes = new byte[vocabSize][];
        plain = new long[(vocabSize + 63) >>> 6];
        int unknown = tokenizer.specialTokens().unknown();
        List<Integer> ids = new ArrayList<>(), specialIds = new ArrayList<>();
        int longest = 0;
        for (int t = 0; t < vocabSize; t++) {
            if (tokenizer.isControl(t) || t == unknown) {
                continue;
            }
            byte[] b = tokenizer.decodeBytes(t);
            if (b.length == 0) {
                continue;
            }
            bytes[t] = b;
            ids.add(t);
            longest = Math.max(longest, b.length);
            if (b.length == 1) {
                singleByte[b[0] & 0xFF] = true;
            }
            if (plainText(b)) {
                plain[t >>> 6] |= 1L << t;
            } else {
                specialIds.add(t);
            }
        }
        maxBytes = longest;
        all = build(ids);
        special = build(specialIds);
    }

    /**
     * Tokens whose bytes spell {@code text} exactly, each the longest token the text continues with; null when some
     * byte has no token.
     */
    int[] spell(byte[] text) {
        int[] out = new int[text.length];
        int n = 0;
        for (int at = 0; at < text.length; ) {
            int node = ROOT, best = -1, bestLength = 0;
            for (int d = at; d < text.length; d++) {
                int child = all.firstChild[node];
                while (child >= 0 && all.nodeByte[child] != text[d]) {
                    child = all.nextSibling[child];
                }
                if (child < 0) {
                    break;
                }
                node = child;
                if (all.tokenEnd[node] > all.tokenStart[node]) {
                    best = all.tokens[all.tokenStart[node]];
                    bestLength = d + 1 - at;
                }
            }
            if (best < 0) {
                return null;
            }
            out[n++] = best;
            at += bestLength;
        }
        return Arrays.copyOf(out, n);
    }

    boolean isPlain(int token) {
        return (plain[token >>> 6] & (1L << token)) != 0;
    }

    /** No quote, backslash or control byte, and only whole, well-formed UTF-8 characters. */
    static boolean plainText(byte[] b) {
        int i = 0;
        while (i < b.length) {
            int x = b[i] & 0xFF;
            if (x < 0x80) {
                if (x < 0x20 || x == '"' || x == '\\') {
                    return false;
                }
                i++;
                continue;
            }
            int n = x >= 0xC2 && x <= 0xDF ? 1 : x >= 0xE0 && x <= 0xEF ? 2 : x >= 0xF0 && x <= 0xF4 ? 3 : -1;
            if (n < 0 || i + n >= b.length) {
                return false; // not a lead byte, or the character ends in another token
            }
            int lo = x == 0xE0 ? 0xA0 : x == 0xF0 ? 0x90 : 0x80;
            int hi = x == 0xED ? 0x9F : x == 0xF4 ? 0x8F : 0xBF;
            int c1 = b[i + 1] & 0xFF;
            if (c1 < lo || c1 > hi) {
                return false;
            }
            for (int k = 2; k <= n; k++) {
                int ck = b[i + k] & 0xFF;
                if (ck < 0x80 || ck > 0xBF) {
                    return false;
                }
            }
            i += n + 1;
        }
        return true;
    }

    private Walk build(List<Integer> ids) {
        ids.sort(Comparator.comparing((Integer t) -> bytes[t], Arrays::compareUnsigned).thenComparing(t -> t));
        int capacity = 1;
        for (int t : ids) {
            capacity += bytes[t].length;
        }
        byte[] nodeByte = new byte[capacity];
        int[] firstChild = new int[capacity], nextSibling = new int[capacity], parent = new int[capacity];
        int[] lastChild = new int[capacity], tokenStart = new int[capacity], tokenEnd = new int[capacity];
        Arrays.fill(firstChild, -1);
        Arrays.fill(nextSibling, -1);
        Arrays.fill(lastChild, -1);
        int[] tokens = new int[ids.size()];
        int nodes = 1;
        int[] path = new int[maxBytes + 1]; // path[d] = node at depth d of the previous token
        byte[] previous = new byte[0];
        for (int i = 0; i < ids.size(); i++) {
            byte[] b = bytes[ids.get(i)];
            int common = Arrays.mismatch(previous, b);
            if (common < 0) {
                common = b.length; // the same bytes as the previous token
            }
            for (int d = common; d < b.length; d++) {
                int p = path[d], n = nodes++;
                nodeByte[n] = b[d];
                parent[n] = p;
                if (lastChild[p] < 0) {
                    firstChild[p] = n;
                } else {
                    nextSibling[lastChild[p]] = n;
                }
                lastChild[p] = n;
                path[d + 1] = n;
                tokenStart[n] = tokenEnd[n] = i;
            }
            // a token that is a prefix of another sorts before it, so only a duplicate ends at an older node,
            // right after the run of its twins
            int end = path[b.length];
            tokens[i] = ids.get(i);
            tokenEnd[end] = i + 1;
            previous = b;
        }
        return new Walk(Arrays.copyOf(nodeByte, nodes), Arrays.copyOf(firstChild, nodes),
                Arrays.copyOf(nextSibling, nodes), Arrays.copyOf(parent, nodes), Arrays.copyOf(tokenStart, nodes),
                Arrays.copyOf(tokenEnd, nodes), tokens);
    }
}
