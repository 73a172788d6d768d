package io.streamingllm.local.json;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A compiled JSON shape: value nodes (object, array, string, number, literal set, union by first byte), the
 * byte tries of object keys and literal values, and the fewest bytes that complete each part, which
 * {@link JsonMachine} adds up to steer a generation to close its value in time. Immutable; built by
 * {@link SchemaCompiler} through {@link Builder}.
 *
 * <p>Objects with declared properties are generated in declaration order: each property at most once,
 * optional ones may be skipped, required ones may not; keys are their canonical JSON strings. Such output is
 * valid against the schema whatever it says of additional properties.
 */
final class JsonGrammar {
    static final byte OBJECT = 0, ARRAY = 1, STRING = 2, NUMBER = 3, LITERAL = 4, UNION = 5;
    /** Union member slots, by the first byte of a value. */
    static final int U_OBJECT = 0, U_ARRAY = 1, U_STRING = 2, U_NUMBER = 3, U_TRUE = 4, U_FALSE = 5, U_NULL = 6, U_SLOTS = 7;
    static final int NO_VALUE = -1, CLOSED_EMPTY = -2;
    static final int UNBOUNDED = Integer.MAX_VALUE;

    final int root;
    /** The string node of free objects' keys. */
    final int keyString;
    final byte[] kind;
    /** OBJECT: first slot of its properties; ARRAY: items; NUMBER: 1 = integer; LITERAL: trie root; UNION: member slots. */
    final int[] a;
    /** OBJECT: property count; ARRAY, STRING: minimum items / chars. */
    final int[] b;
    /** OBJECT: value node of free keys (or NO_VALUE with properties, CLOSED_EMPTY for {}); ARRAY, STRING: maximum. */
    final int[] c;
    final int[] minBytes;
    final int[] unionMembers;
    // an object's properties occupy slots first .. first + count (one more: the end), by declaration order
    final int[] propNode, propKeyTrie, tailMore, afterComma;
    final boolean[] closable;
    // tries over bytes: keys (terminal = property index, after the closing quote) and literal texts (terminal = 0)
    final int[] childStart, childCount, edgeTo, terminal, trieCost;
    final byte[] edgeByte;
    /** Most a single byte can raise the bytes still needed; bounds where steering must look at each token. */
    final int maxJump;
    /** Every byte that the grammar's keys and literals use, which the vocabulary must offer as single tokens. */
    final boolean[] literalBytes;

    private JsonGrammar(Builder g) {
        root = g.root;
        keyString = g.keyString;
        int n = g.kinds.size();
        kind = new byte[n];
        a = new int[n];
        b = new int[n];
        c = new int[n];
        for (int i = 0; i < n; i++) {
            kind[i] = g.kinds.get(i);
            a[i] = g.as.get(i);
            b[i] = g.bs.get(i);
            c[i] = g.cs.get(i);
        }
        minBytes = g.minBytes;
        unionMembers = g.unionMembers.stream().mapToInt(Integer::intValue).toArray();
        propNode = g.propNode.stream().mapToInt(Integer::intValue).toArray();
        propKeyTrie = g.propKeyTrie;
        tailMore = g.tailMore;
        afterComma = g.afterComma;
        closable = g.closable;
        int t = g.children.size();
        childStart = new int[t];
        childCount = new int[t];
        terminal = new int[t];
        trieCost = g.trieCost;
        List<Integer> to = new ArrayList<>();
        List<Byte> by = new ArrayList<>();
        for (int i = 0; i < t; i++) {
            childStart[i] = to.size();
            childCount[i] = g.children.get(i).size();
            terminal[i] = g.terminals.get(i);
            for (Map.Entry<Integer, Integer> e : g.children.get(i).entrySet()) {
                by.add((byte) (int) e.getKey());
                to.add(e.getValue());
            }
        }
        edgeTo = to.stream().mapToInt(Integer::intValue).toArray();
        edgeByte = new byte[by.size()];
        for (int i = 0; i < edgeByte.length; i++) {
            edgeByte[i] = by.get(i);
        }
        maxJump = g.maxJump;
        literalBytes = g.literalBytes;
    }

    /** The child of trie node {@code node} by byte {@code x}, or -1. */
    int edge(int node, int x) {
        int from = childStart[node], to = from + childCount[node];
        for (int e = from; e < to; e++) {
            if ((edgeByte[e] & 0xFF) == x) {
                return edgeTo[e];
            }
        }
        return -1;
    }

    /** Mutable nodes and tries; {@link #build} computes the costs and freezes them. */
    static final class Builder {
        private final List<Byte> kinds = new ArrayList<>();
        private final List<Integer> as = new ArrayList<>(), bs = new ArrayList<>(), cs = new ArrayList<>();
        private final List<Integer> unionMembers = new ArrayList<>();
        private final List<Integer> propNode = new ArrayList<>();
        private final List<byte[]> propKey = new ArrayList<>();
        private final List<Boolean> propRequired = new ArrayList<>();
        private final List<TreeMap<Integer, Integer>> children = new ArrayList<>();
        private final List<Integer> terminals = new ArrayList<>();
        private final boolean[] literalBytes = new boolean[256];
        private int root = -1;
        private final int keyString = string(0, UNBOUNDED);
        private final List<Integer> trieCosts = new ArrayList<>();
        private int[] minBytes, propKeyTrie, tailMore, afterComma, trieCost;
        private boolean[] closable;
        private int maxJump;

        int size() {
            return kinds.size();
        }

        private int node(byte k, int a, int b, int c) {
            kinds.add(k);
            as.add(a);
            bs.add(b);
            cs.add(c);
            return kinds.size() - 1;
        }

        int string(int minLength, int maxLength) {
            return node(STRING, 0, minLength, maxLength);
        }

        int number(boolean integer) {
            return node(NUMBER, integer ? 1 : 0, 0, 0);
        }

        /** A node whose values are exactly these JSON texts (enum, const, true/false, null). */
        int literals(List<String> jsonTexts) {
            int trie = newTrieNode();
            for (String text : jsonTexts) {
                byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
                addToTrie(trie, bytes, 0);
                for (byte x : bytes) {
                    literalBytes[x & 0xFF] = true;
                }
            }
            return node(LITERAL, trie, 0, 0);
        }

        /** An array node; its items node is set with {@link #setItems} (it may be created later). */
        int array(int minItems, int maxItems) {
            return node(ARRAY, -1, minItems, maxItems);
        }

        void setItems(int array, int items) {
            as.set(array, items);
        }

        /**
         * An object with any keys whose values are {@code valueNode}, or only {@code {}} for CLOSED_EMPTY; the
         * value node may be set later with {@link #setFreeValue}.
         */
        int freeObject(int valueNode) {
            return node(OBJECT, -1, 0, valueNode);
        }

        void setFreeValue(int object, int valueNode) {
            cs.set(object, valueNode);
        }

        /**
         * An object with declared properties ({@code keys} as canonical JSON string texts with their quotes);
         * its value nodes are set with {@link #setProperty}.
         */
        int propertiesObject(List<String> keys, List<Boolean> required) {
            int first = propNode.size();
            for (int i = 0; i <= keys.size(); i++) {
                propNode.add(-1);
                byte[] key = i < keys.size() ? keys.get(i).getBytes(StandardCharsets.UTF_8) : new byte[0];
                propKey.add(key);
                propRequired.add(i < keys.size() && required.get(i));
                for (byte x : key) {
                    literalBytes[x & 0xFF] = true;
                }
            }
            return node(OBJECT, first, keys.size(), NO_VALUE);
        }

        void setProperty(int object, int index, int valueNode) {
            propNode.set(as.get(object) + index, valueNode);
        }

        /** A union; {@code members[U_*]} is the node for values starting that way, or -1. */
        int union(int[] members) {
            int slot = unionMembers.size();
            for (int m : members) {
                unionMembers.add(m);
            }
            return node(UNION, slot, 0, 0);
        }

        void setRoot(int node) {
            root = node;
        }

        private int newTrieNode() {
            children.add(new TreeMap<>());
            terminals.add(-1);
            trieCosts.add(Integer.MAX_VALUE);
            return children.size() - 1;
        }

        private void addToTrie(int trie, byte[] bytes, int value) {
            int n = trie;
            for (byte x : bytes) {
                Integer next = children.get(n).get(x & 0xFF);
                if (next == null) {
                    next = newTrieNode();
                    children.get(n).put(x & 0xFF, next);
                }
                n = next;
            }
            terminals.set(n, value);
        }

        JsonGrammar build() {
            int n = kinds.size();
            minBytes = new int[n];
            int props = propNode.size();
            propKeyTrie = new int[props];
            tailMore = new int[props];
            afterComma = new int[props];
            closable = new boolean[props];
            boolean[] done = new boolean[n];
            for (int i = 0; i < n; i++) {
                minBytes(i, done, new boolean[n]);
            }
            trieCost = trieCosts.stream().mapToInt(Integer::intValue).toArray();
            int maxMin = 0, maxKey = 0;
            for (int m : minBytes) {
                maxMin = Math.max(maxMin, Math.min(m, 1 << 20));
            }
            for (byte[] k : propKey) {
                maxKey = Math.max(maxKey, k.length);
            }
            maxJump = maxMin + maxKey + 8;
            return new JsonGrammar(this);
        }

        private int minBytes(int node, boolean[] done, boolean[] visiting) {
            if (done[node]) {
                return minBytes[node];
            }
            if (visiting[node]) {
                throw new IllegalArgumentException("the schema has no finite JSON value (a required recursion)");
            }
            visiting[node] = true;
            int m = switch (kinds.get(node)) {
                case OBJECT -> objectCosts(node, done, visiting);
                case ARRAY -> {
                    int min = bs.get(node);
                    yield min == 0 ? 2 : 2 + min * minBytes(as.get(node), done, visiting) + (min - 1);
                }
                case STRING -> 2 + bs.get(node);
                case NUMBER -> 1;
                case LITERAL -> literalCosts(as.get(node));
                case UNION -> {
                    int best = Integer.MAX_VALUE;
                    for (int s = 0; s < U_SLOTS; s++) {
                        int member = unionMembers.get(as.get(node) + s);
                        if (member >= 0 && member != node) {
                            best = Math.min(best, minBytes(member, done, visiting));
                        }
                    }
                    yield best;
                }
                default -> throw new IllegalStateException();
            };
            visiting[node] = false;
            done[node] = true;
            minBytes[node] = m;
            return m;
        }

        /** The costs of an object's property slots, and its own minimum: {@code {} plus its required members. */
        private int objectCosts(int node, boolean[] done, boolean[] visiting) {
            int valueNode = cs.get(node);
            if (valueNode != NO_VALUE) {
                return 2; // {} is always one
            }
            int first = as.get(node), count = bs.get(node);
            int[] member = new int[count];
            for (int i = 0; i < count; i++) {
                member[i] = propKey.get(first + i).length + 1 + minBytes(propNode.get(first + i), done, visiting);
            }
            tailMore[first + count] = 1;
            closable[first + count] = true;
            int firstRequired = count;
            for (int i = count - 1; i >= 0; i--) {
                boolean req = propRequired.get(first + i);
                tailMore[first + i] = tailMore[first + i + 1] + (req ? 1 + member[i] : 0);
                if (req) {
                    firstRequired = i;
                }
                closable[first + i] = firstRequired == count;
                int trie = newTrieNode();
                int best = Integer.MAX_VALUE;
                for (int j = i; j <= Math.min(firstRequired, count - 1); j++) {
                    byte[] key = propKey.get(first + j);
                    addToTrie(trie, Arrays.copyOfRange(key, 1, key.length), j); // the opening quote is read first
                    best = Math.min(best, member[j] + tailMore[first + j + 1]);
                }
                keyCosts(trie, first, member);
                propKeyTrie[first + i] = trie;
                afterComma[first + i] = best;
            }
            // nothing written yet: like after a comma, but the first member needs none
            int none = closable[first] ? 1 : Integer.MAX_VALUE;
            for (int j = 0; j <= Math.min(firstRequired, count - 1); j++) {
                none = Math.min(none, member[j] + tailMore[first + j + 1]);
            }
            return 1 + none;
        }

        /** Fewest bytes from each node of a literal trie to a terminal; returns the root's. */
        private int literalCosts(int node) {
            int best = terminals.get(node) >= 0 ? 0 : Integer.MAX_VALUE;
            for (int child : children.get(node).values()) {
                best = Math.min(best, 1 + literalCosts(child));
            }
            trieCosts.set(node, best);
            return best;
        }

        /**
         * Fewest bytes from each node of a key trie to the end of the object: the rest of the key, the colon,
         * the property's smallest value and the required members after it.
         */
        private int keyCosts(int node, int first, int[] member) {
            int j = terminals.get(node);
            int best = j < 0 ? Integer.MAX_VALUE
                    : member[j] - propKey.get(first + j).length + tailMore[first + j + 1];
            for (int child : children.get(node).values()) {
                best = Math.min(best, 1 + keyCosts(child, first, member));
            }
            trieCosts.set(node, best);
            return best;
        }
    }
}
