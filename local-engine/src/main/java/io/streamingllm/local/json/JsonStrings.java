package io.streamingllm.local.json;

import static io.streamingllm.local.json.JsonMachine.ACCEPT;
import static io.streamingllm.local.json.JsonMachine.HEX_1;
import static io.streamingllm.local.json.JsonMachine.HEX_4;
import static io.streamingllm.local.json.JsonMachine.REJECT;
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
 * The inside of a JSON string for {@link JsonMachine}: characters counted against the node's length bounds,
 * escapes (a backslash and one of {@code "/bfnrt} or another backslash, or {@code u} and four hex digits),
 * and well-formed UTF-8 only (no overlong forms, no surrogates, nothing above U+10FFFF, no control bytes).
 * Stateless.
 */
final class JsonStrings {
    private JsonStrings() {
    }

    /** Reads byte {@code x} in the string frame at {@code f}: ACCEPT or REJECT. */
    static int step(JsonGrammar g, int[] st, int f, int x) {
        int node = st[f], phase = st[f + 1], count = st[f + 2];
        int max = g.c[node];
        switch (phase) {
            case S_BODY -> {
                if (x == '"') {
                    if (count < g.b[node]) {
                        return REJECT;
                    }
                    st[0]--;
                    return ACCEPT;
                }
                if (x < 0x20 || count >= max || (x >= 0x80 && x < 0xC2) || x > 0xF4) {
                    return REJECT;
                }
                st[f + 2] = count + 1; // a character starts here
                st[f + 1] = x == '\\' ? S_ESC : x < 0x80 ? S_BODY : x < 0xE0 ? U_1 : x == 0xE0 ? U_E0
                        : x == 0xED ? U_ED : x < 0xF0 ? U_2 : x == 0xF0 ? U_F0 : x == 0xF4 ? U_F4 : U_3;
                return ACCEPT;
            }
            case S_ESC -> {
                if (x == 'u') {
                    st[f + 1] = HEX_4;
                    return ACCEPT;
                }
                if (x == '"' || x == '\\' || x == '/' || x == 'b' || x == 'f' || x == 'n' || x == 'r' || x == 't') {
                    st[f + 1] = S_BODY;
                    return ACCEPT;
                }
                return REJECT;
            }
            case U_1, U_2, U_3 -> {
                if (x < 0x80 || x > 0xBF) {
                    return REJECT;
                }
                st[f + 1] = phase == U_1 ? S_BODY : phase - 1;
                return ACCEPT;
            }
            case U_E0, U_ED, U_F0, U_F4 -> {
                int lo = phase == U_E0 ? 0xA0 : phase == U_F0 ? 0x90 : 0x80;
                int hi = phase == U_ED ? 0x9F : phase == U_F4 ? 0x8F : 0xBF;
                if (x < lo || x > hi) {
                    return REJECT;
                }
                st[f + 1] = phase == U_E0 || phase == U_ED ? U_1 : U_2;
                return ACCEPT;
            }
            default -> { // the hex digits of a u escape
                boolean hex = (x >= '0' && x <= '9') || (x >= 'a' && x <= 'f') || (x >= 'A' && x <= 'F');
                if (!hex) {
                    return REJECT;
                }
                st[f + 1] = phase == HEX_1 ? S_BODY : phase - 1;
                return ACCEPT;
            }
        }
    }

}
