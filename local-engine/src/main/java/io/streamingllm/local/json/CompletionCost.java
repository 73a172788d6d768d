package io.streamingllm.local.json;

import static io.streamingllm.local.json.JsonGrammar.ARRAY;
import static io.streamingllm.local.json.JsonGrammar.CLOSED_EMPTY;
import static io.streamingllm.local.json.JsonGrammar.NO_VALUE;
import static io.streamingllm.local.json.JsonGrammar.NUMBER;
import static io.streamingllm.local.json.JsonGrammar.OBJECT;
import static io.streamingllm.local.json.JsonGrammar.STRING;
import static io.streamingllm.local.json.JsonMachine.A_AFTER;
import static io.streamingllm.local.json.JsonMachine.A_START;
import static io.streamingllm.local.json.JsonMachine.HEX_1;
import static io.streamingllm.local.json.JsonMachine.O_AFTER;
import static io.streamingllm.local.json.JsonMachine.O_COLON;
import static io.streamingllm.local.json.JsonMachine.O_KEY;
import static io.streamingllm.local.json.JsonMachine.O_NEXT;
import static io.streamingllm.local.json.JsonMachine.O_START;
import static io.streamingllm.local.json.JsonMachine.O_VALUE;
import static io.streamingllm.local.json.JsonMachine.S_BODY;
import static io.streamingllm.local.json.JsonMachine.S_ESC;
import static io.streamingllm.local.json.JsonMachine.U_1;
import static io.streamingllm.local.json.JsonMachine.U_2;
import static io.streamingllm.local.json.JsonMachine.U_3;
import static io.streamingllm.local.json.JsonMachine.U_E0;
import static io.streamingllm.local.json.JsonMachine.U_ED;
import static io.streamingllm.local.json.JsonMachine.U_F0;
import static io.streamingllm.local.json.JsonMachine.U_F4;

/**
 * The fewest bytes that complete a {@link JsonMachine} state's value: the root's smallest value if it has not
 * started, plus what each open frame still needs in its phase (the rest of a key, the colon, the smallest
 * values of the required members left, the closing bracket, the characters a minimum length still wants, the
 * bytes of a begun character or escape, a digit a number still lacks, the rest of a literal). Stateless.
 */
final class CompletionCost {
    private static final int SATURATE = 1 << 30;

    private CompletionCost() {
    }

    /** The fewest bytes that complete the value from {@code st} (saturating at 2^30). */
    static int of(JsonGrammar g, int[] st) {
        long total = st[2] == 0 ? g.minBytes[g.root] : 0;
        for (int k = 0; k < st[0]; k++) {
            int f = JsonMachine.HEADER + JsonMachine.FRAME * k;
            total += frame(g, st[f], st[f + 1], st[f + 2]);
        }
        return (int) Math.min(total, SATURATE);
    }

    private static long frame(JsonGrammar g, int node, int phase, int aux) {
        switch (g.kind[node]) {
            case OBJECT -> {
                int value = g.c[node];
                if (value != NO_VALUE) {
                    long v = value == CLOSED_EMPTY ? 0 : g.minBytes[value];
                    return switch (phase) {
                        case O_COLON -> v + 2;
                        case O_VALUE -> v + 1;
                        case O_NEXT -> v + 4; // "":v}
                        default -> 1;
                    };
                }
                int slot = g.a[node] + aux;
                return switch (phase) {
                    case O_START -> g.minBytes[node] - 1;
                    case O_KEY -> g.trieCost[aux];
                    case O_COLON -> 1L + g.minBytes[g.propNode[slot]] + g.tailMore[slot + 1];
                    case O_VALUE -> (long) g.minBytes[g.propNode[slot]] + g.tailMore[slot + 1];
                    case O_AFTER -> g.tailMore[slot];
                    default -> g.afterComma[slot]; // O_NEXT
                };
            }
            case ARRAY -> {
                long item = g.minBytes[g.a[node]];
                int min = g.b[node];
                return switch (phase) {
                    case A_START -> min == 0 ? 1 : min * item + min;
                    case A_AFTER -> Math.max(0, min - aux) * (1 + item) + 1;
                    default -> item + Math.max(0, min - aux - 1) * (1 + item) + 1; // A_NEXT
                };
            }
            case STRING -> {
                int short_ = Math.max(0, g.b[node] - aux); // characters still missing, the one begun counted
                return switch (phase) {
                    case S_BODY -> short_ + 1;
                    case S_ESC -> 2 + short_;
                    case U_1 -> 2 + short_; // continuation bytes still to come, then the quote
                    case U_2, U_E0, U_ED -> 3 + short_;
                    case U_3, U_F0, U_F4 -> 4 + short_;
                    default -> (phase - HEX_1 + 1) + 1 + short_; // hex digits left, the quote
                };
            }
            case NUMBER -> {
                return JsonMachine.ending(phase) ? 0 : 1;
            }
            default -> {
                return g.trieCost[aux]; // LITERAL
            }
        }
    }
}
