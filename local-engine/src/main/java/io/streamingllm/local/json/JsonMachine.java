package io.streamingllm.local.json;

import static io.streamingllm.local.json.JsonGrammar.ARRAY;
import static io.streamingllm.local.json.JsonGrammar.CLOSED_EMPTY;
import static io.streamingllm.local.json.JsonGrammar.LITERAL;
import static io.streamingllm.local.json.JsonGrammar.NO_VALUE;
import static io.streamingllm.local.json.JsonGrammar.NUMBER;
import static io.streamingllm.local.json.JsonGrammar.OBJECT;
import static io.streamingllm.local.json.JsonGrammar.STRING;
import static io.streamingllm.local.json.JsonGrammar.UNBOUNDED;
import static io.streamingllm.local.json.JsonGrammar.UNION;

/**
 * The incremental JSON validator: a pushdown automaton over UTF-8 bytes for one {@link JsonGrammar}, whose
 * state is a plain {@code int[]} so that a search over the vocabulary can copy it level by level and nothing
 * is allocated per byte. It accepts exactly the prefixes of values of the grammar (RFC 8259 syntax, valid
 * UTF-8 in strings, at most {@value #MAX_WS} whitespace bytes in a row between tokens, numbers of at most
 * {@value #MAX_DIGITS} digits per part, at most {@value #MAX_FRAMES} open values) and tells the fewest bytes
 * that complete the value from any state ({@link #cost}).
 *
 * <table>
 * <caption>The state array</caption>
 * <tr><th>ints</th><th>what</th></tr>
 * <tr><td>[0]</td><td>open values (frames)</td></tr>
 * <tr><td>[1]</td><td>whitespace bytes in a row</td></tr>
 * <tr><td>[2]</td><td>1 once the root value has started</td></tr>
 * <tr><td>[3 + 3k .. 3 + 3k + 2]</td><td>frame k: grammar node, phase, a counter (property index, items,
 *     characters, digits or trie node)</td></tr>
 * </table>
 *
 * <p>Immutable; states belong to their callers.
 */
final class JsonMachine {
    static final int HEADER = 3, FRAME = 3, MAX_FRAMES = 48, STATE_INTS = HEADER + FRAME * MAX_FRAMES;
    static final int MAX_WS = 16, MAX_DIGITS = 15, MAX_EXP_DIGITS = 3;
    static final int REJECT = 0, ACCEPT = 1, AGAIN = 2;
    // object phases
    static final int O_START = 0, O_KEY = 1, O_COLON = 2, O_VALUE = 3, O_AFTER = 4, O_NEXT = 5;
    // array phases
    static final int A_START = 0, A_AFTER = 1, A_NEXT = 2;
    // string phases; HEX_1 .. HEX_4 = hex digits still to come; U_* = UTF-8 continuation bytes still to come
    static final int S_BODY = 0, S_ESC = 1, HEX_1 = 2, HEX_4 = 5, U_1 = 6, U_2 = 7, U_3 = 8, U_E0 = 9,
            U_ED = 10, U_F0 = 11, U_F4 = 12;
    // number phases
    static final int N_MINUS = 0, N_ZERO = 1, N_INT = 2, N_DOT = 3, N_FRAC = 4, N_E = 5, N_ESIGN = 6, N_EXP = 7;

    final JsonGrammar g;

    JsonMachine(JsonGrammar g) {
        this.g = g;
    }

    /** A new state: nothing read. */
    int[] start() {
        return new int[STATE_INTS];
    }

    /** How many leading ints of {@code st} hold the state. */
    static int length(int[] st) {
        return HEADER + FRAME * st[0];
    }

    private static boolean isWs(int x) {
        return x == ' ' || x == '\n' || x == '\t' || x == '\r';
    }

    private static boolean ws(int[] st) {
        if (st[1] >= MAX_WS) {
            return false;
        }
        st[1]++;
        return true;
    }

    /** Reads byte {@code x} (0..255) into {@code st}; false when no value of the grammar continues so (st is then spoilt). */
    boolean step(int[] st, int x) {
        boolean space = isWs(x);
        if (!space) {
            st[1] = 0;
        }
        while (true) {
            int d = st[0];
            if (d == 0) {
                if (st[2] == 1) {
                    return false; // the value is complete
                }
                if (space) {
                    return ws(st);
                }
                st[2] = 1;
                return start(st, g.root, x);
            }
            int f = HEADER + FRAME * (d - 1);
            int r = switch (g.kind[st[f]]) {
                case OBJECT -> object(st, f, x, space);
                case ARRAY -> array(st, f, x, space);
                case STRING -> JsonStrings.step(g, st, f, x);
                case NUMBER -> number(st, f, x);
                default -> literal(st, f, x);
            };
            if (r != AGAIN) {
                return r == ACCEPT;
            }
        }
    }

    private static boolean push(int[] st, int node, int phase, int aux) {
        int d = st[0];
        if (d >= MAX_FRAMES) {
            return false;
        }
        int f = HEADER + FRAME * d;
        st[f] = node;
        st[f + 1] = phase;
        st[f + 2] = aux;
        st[0] = d + 1;
        return true;
    }

    /** Starts a value of {@code node} with byte {@code x}; the parent frame is already in its next phase. */
    private boolean start(int[] st, int node, int x) {
        if (g.kind[node] == UNION) {
            int slot = switch (x) {
                case '{' -> JsonGrammar.U_OBJECT;
                case '[' -> JsonGrammar.U_ARRAY;
                case '"' -> JsonGrammar.U_STRING;
                case 't' -> JsonGrammar.U_TRUE;
                case 'f' -> JsonGrammar.U_FALSE;
                case 'n' -> JsonGrammar.U_NULL;
                default -> x == '-' || (x >= '0' && x <= '9') ? JsonGrammar.U_NUMBER : -1;
            };
            if (slot < 0) {
                return false;
            }
            node = g.unionMembers[g.a[node] + slot];
            if (node < 0) {
                return false;
            }
        }
        return switch (g.kind[node]) {
            case OBJECT -> x == '{' && push(st, node, O_START, 0);
            case ARRAY -> x == '[' && push(st, node, A_START, 0);
            case STRING -> x == '"' && push(st, node, S_BODY, 0);
            case NUMBER -> x == '-' ? push(st, node, N_MINUS, 0)
                    : x == '0' ? push(st, node, N_ZERO, 0)
                    : x >= '1' && x <= '9' && push(st, node, N_INT, 1);
            case LITERAL -> {
                int child = g.edge(g.a[node], x);
                if (child < 0) {
                    yield false;
                }
                yield leaf(child) || push(st, node, 0, child);
            }
            default -> false;
        };
    }

    /** A trie node that ends a literal and continues none: the literal is complete. */
    private boolean leaf(int trieNode) {
        return g.terminal[trieNode] >= 0 && g.childCount[trieNode] == 0;
    }

    private int object(int[] st, int f, int x, boolean space) {
        int node = st[f], phase = st[f + 1], aux = st[f + 2];
        int value = g.c[node];
        boolean props = value == NO_VALUE;
        int first = g.a[node];
        switch (phase) {
            case O_START, O_AFTER -> {
                if (space) {
                    return ws(st) ? ACCEPT : REJECT;
                }
                if (x == '}') {
                    if (props && !g.closable[first + aux]) {
                        return REJECT;
                    }
                    st[0]--;
                    return ACCEPT;
                }
                if (phase == O_START && x == '"') {
                    return key(st, f, node, props, first, 0);
                }
                if (phase == O_AFTER && x == ',' && (!props || aux < g.b[node])) {
                    st[f + 1] = O_NEXT;
                    return ACCEPT;
                }
                return REJECT;
            }
            case O_NEXT -> {
                if (space) {
                    return ws(st) ? ACCEPT : REJECT;
                }
                return x == '"' ? key(st, f, node, props, first, aux) : REJECT;
            }
            case O_KEY -> {
                int child = g.edge(aux, x);
                if (child < 0) {
                    return REJECT;
                }
                if (g.terminal[child] >= 0) {
                    st[f + 1] = O_COLON;
                    st[f + 2] = g.terminal[child];
                } else {
                    st[f + 2] = child;
                }
                return ACCEPT;
            }
            case O_COLON -> {
                if (space) {
                    return ws(st) ? ACCEPT : REJECT;
                }
                if (x != ':') {
                    return REJECT;
                }
                st[f + 1] = O_VALUE;
                return ACCEPT;
            }
            default -> { // O_VALUE
                if (space) {
                    return ws(st) ? ACCEPT : REJECT;
                }
                st[f + 1] = O_AFTER;
                st[f + 2] = props ? aux + 1 : 0;
                return start(st, props ? g.propNode[first + aux] : value, x) ? ACCEPT : REJECT;
            }
        }
    }

    /** After the opening quote of a key at property slot {@code index}. */
    private int key(int[] st, int f, int node, boolean props, int first, int index) {
        if (g.c[node] == CLOSED_EMPTY || (props && index >= g.b[node])) {
            return REJECT;
        }
        if (props) {
            st[f + 1] = O_KEY;
            st[f + 2] = g.propKeyTrie[first + index];
            return ACCEPT;
        }
        st[f + 1] = O_COLON;
        return push(st, g.keyString, S_BODY, 0) ? ACCEPT : REJECT;
    }

    private int array(int[] st, int f, int x, boolean space) {
        int node = st[f], phase = st[f + 1], count = st[f + 2];
        int items = g.a[node], min = g.b[node], max = g.c[node];
        if (space) {
            return ws(st) ? ACCEPT : REJECT;
        }
        if (phase == A_START || phase == A_AFTER) {
            if (x == ']') {
                if (count < min) {
                    return REJECT;
                }
                st[0]--;
                return ACCEPT;
            }
            if (phase == A_AFTER) {
                if (x != ',' || count >= max) {
                    return REJECT;
                }
                st[f + 1] = A_NEXT;
                return ACCEPT;
            }
        }
        if (count >= max) {
            return REJECT;
        }
        st[f + 1] = A_AFTER;
        st[f + 2] = count + 1;
        return start(st, items, x) ? ACCEPT : REJECT;
    }

    private int number(int[] st, int f, int x) {
        int node = st[f], phase = st[f + 1], digits = st[f + 2];
        boolean integer = g.a[node] == 1;
        boolean digit = x >= '0' && x <= '9';
        int next = -1;
        switch (phase) {
            case N_MINUS -> next = x == '0' ? N_ZERO : digit ? N_INT : -1;
            case N_ZERO, N_INT, N_FRAC -> {
                if (digit && phase != N_ZERO) {
                    next = digits < MAX_DIGITS ? phase : -1;
                } else if (x == '.' && phase != N_FRAC && !integer) {
                    next = N_DOT;
                } else if ((x == 'e' || x == 'E') && !integer) {
                    next = N_E;
                }
            }
            case N_DOT -> next = digit ? N_FRAC : -1;
            case N_E -> next = x == '+' || x == '-' ? N_ESIGN : digit ? N_EXP : -1;
            case N_ESIGN -> next = digit ? N_EXP : -1;
            default -> next = digit && digits < MAX_EXP_DIGITS ? N_EXP : -1; // N_EXP
        }
        if (next >= 0) {
            st[f + 1] = next;
            st[f + 2] = next == phase ? digits + 1 : digit ? 1 : 0;
            return ACCEPT;
        }
        if (ending(phase)) {
            st[0]--;
            return AGAIN; // the byte after a number belongs to what holds it
        }
        return REJECT;
    }

    static boolean ending(int numberPhase) {
        return numberPhase == N_ZERO || numberPhase == N_INT || numberPhase == N_FRAC || numberPhase == N_EXP;
    }

    private int literal(int[] st, int f, int x) {
        int at = st[f + 2];
        int child = g.edge(at, x);
        if (child >= 0) {
            if (leaf(child)) {
                st[0]--;
            } else {
                st[f + 2] = child;
            }
            return ACCEPT;
        }
        if (g.terminal[at] >= 0) {
            st[0]--;
            return AGAIN;
        }
        return REJECT;
    }

    /** The value is complete and nothing may follow. */
    boolean mustEnd(int[] st) {
        return st[2] == 1 && st[0] == 0;
    }

    /** The value may end here (complete, or a number or literal that could also go on). */
    boolean canEnd(int[] st) {
        if (st[2] != 1 || st[0] > 1) {
            return false;
        }
        if (st[0] == 0) {
            return true;
        }
        int node = st[HEADER];
        return (g.kind[node] == NUMBER && ending(st[HEADER + 1]))
                || (g.kind[node] == LITERAL && g.terminal[st[HEADER + 2]] >= 0);
    }

    /** Inside a string with no length bound, between characters: any text without quotes or escapes keeps it so. */
    boolean inFreeString(int[] st) {
        int d = st[0];
        if (d == 0) {
            return false;
        }
        int f = HEADER + FRAME * (d - 1);
        return g.kind[st[f]] == STRING && st[f + 1] == S_BODY && g.c[st[f]] == UNBOUNDED;
    }

    /** The fewest bytes that complete the value from {@code st} (saturating at 2^30). */
    int cost(int[] st) {
        return CompletionCost.of(g, st);
    }
}
