package io.streamingllm.local.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small byte-level BPE vocabulary built in tests: ids 0-255 are the 256 byte characters, then one token per
 * merge (its concatenation), then extra normal tokens, then control tokens.
 */
final class SyntheticVocab {
    final List<String> tokens = new ArrayList<>();
    final List<Integer> types = new ArrayList<>();
    final List<String> merges = new ArrayList<>();
    private final Map<String, Object> extra = new LinkedHashMap<>();

    SyntheticVocab() {
        for (int b = 0; b < 256; b++) {
            tokens.add(ByteLevel.encode(new byte[] {(byte) b}));
            types.add(Vocabulary.TYPE_NORMAL);
        }
    }

    /** A merge "left right" in rank order; adds the merged token unless present. */
    SyntheticVocab merge(String left, String right) {
        merges.add(left + " " + right);
        return normal(left + right);
    }

    SyntheticVocab normal(String text) {
        if (!tokens.contains(text)) {
            tokens.add(text);
            types.add(Vocabulary.TYPE_NORMAL);
        }
        return this;
    }

    SyntheticVocab control(String text) {
        tokens.add(text);
        types.add(Vocabulary.TYPE_CONTROL);
        return this;
    }

    SyntheticVocab userDefined(String text) {
        tokens.add(text);
        types.add(Vocabulary.TYPE_USER_DEFINED);
        return this;
    }

    SyntheticVocab put(String key, Object value) {
        extra.put(key, value);
        return this;
    }

    int id(String text) {
        return tokens.indexOf(text);
    }

    Map<String, Object> metadata(String pre) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("tokenizer.ggml.model", "gpt2");
        m.put("tokenizer.ggml.pre", pre);
        m.put("tokenizer.ggml.tokens", tokens.toArray(String[]::new));
        m.put("tokenizer.ggml.token_type", types.stream().mapToInt(Integer::intValue).toArray());
        m.put("tokenizer.ggml.merges", merges.toArray(String[]::new));
        m.putAll(extra);
        return m;
    }

    Tokenizer tokenizer(String pre) {
        return Tokenizer.fromGguf(metadata(pre));
    }

    /** Ids of the single-byte tokens of {@code text}'s UTF-8 bytes. */
    static int[] byteIds(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            ids[i] = bytes[i] & 0xFF;
        }
        return ids;
    }
}
