package io.streamingllm.local.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Token texts, scores and types of a GGUF vocabulary, with the lookups both tokenizers need. */
final class Vocabulary {
    static final int TYPE_NORMAL = 1;
    static final int TYPE_UNKNOWN = 2;
    static final int TYPE_CONTROL = 3;
    static final int TYPE_USER_DEFINED = 4;
    static final int TYPE_UNUSED = 5;
    static final int TYPE_BYTE = 6;

    private static final List<String> END_OF_TURN_TEXTS =
            List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>");
    /** Control tokens llama.cpp also ends generation on, found by their text. */
    private static final List<String> END_OF_GENERATION_TEXTS =
            List.of("<|eot_id|>", "<|eom_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>");

    final String[] texts;
    final float[] scores;
    final int[] types;
    final Map<String, Integer> ids;
    final SpecialTokens special;
    /** Tokens matched as a whole inside text (control, user-defined, unknown), longest first, as llama.cpp does. */
    final List<Integer> partitionTokens;

    /** @param addBosByDefault whether prompts start with BOS when {@code tokenizer.ggml.add_bos_token} is absent */
    Vocabulary(Metadata metadata, boolean addBosByDefault) {
        texts = metadata.strings("tokenizer.ggml.tokens");
        if (texts == null || texts.length == 0) {
            throw new TokenizerException("GGUF metadata has no tokenizer.ggml.tokens");
        }
        float[] s = metadata.floats("tokenizer.ggml.scores");
        if (s != null && s.length != texts.length) {
            throw new TokenizerException("tokenizer.ggml.scores has " + s.length + " entries for " + texts.length + " tokens");
        }
        scores = s != null ? s : new float[texts.length];
        int[] t = metadata.ints("tokenizer.ggml.token_type");
        if (t != null && t.length != texts.length) {
            throw new TokenizerException("tokenizer.ggml.token_type has " + t.length + " entries for " + texts.length + " tokens");
        }
        if (t == null) {
            t = new int[texts.length];
            Arrays.fill(t, TYPE_NORMAL);
        }
        types = t;
        ids = new HashMap<>(texts.length * 2);
        for (int i = 0; i < texts.length; i++) {
            ids.putIfAbsent(texts[i], i);
        }
        int bos = checkedId(metadata, "tokenizer.ggml.bos_token_id");
        int eos = checkedId(metadata, "tokenizer.ggml.eos_token_id");
        int eot = checkedId(metadata, "tokenizer.ggml.eot_token_id");
        int eom = checkedId(metadata, "tokenizer.ggml.eom_token_id");
        int unk = checkedId(metadata, "tokenizer.ggml.unknown_token_id");
        if (eot == SpecialTokens.NONE) {
            eot = END_OF_TURN_TEXTS.stream().map(this::id).filter(id -> id >= 0).findFirst().orElse(SpecialTokens.NONE);
        }
        if (eom == SpecialTokens.NONE) {
            eom = id("<|eom_id|>");
        }
        if (unk == SpecialTokens.NONE) {
            unk = id("<unk>");
        }
        Set<Integer> ends = new LinkedHashSet<>();
        for (int id : new int[] {eos, eot, eom}) {
            if (id >= 0) {
                ends.add(id);
            }
        }
        for (String text : END_OF_GENERATION_TEXTS) {
            int id = id(text);
            if (id >= 0 && types[id] == TYPE_CONTROL) {
                ends.add(id);
            }
        }
        special = new SpecialTokens(bos, eos, eot, eom, unk,
                metadata.bool("tokenizer.ggml.add_bos_token", bos >= 0 && addBosByDefault),
                metadata.bool("tokenizer.ggml.add_eos_token", false), ends);
        List<Integer> partition = new ArrayList<>();
        for (int i = 0; i < texts.length; i++) {
            int type = types[i];
            if ((type == TYPE_CONTROL || type == TYPE_USER_DEFINED || type == TYPE_UNKNOWN) && !texts[i].isEmpty()) {
                partition.add(i);
            }
        }
        partition.sort(Comparator.comparingInt((Integer i) -> -texts[i].length()).thenComparingInt(i -> i));
        partitionTokens = List.copyOf(partition);
    }

    int size() {
        return texts.length;
    }

    /** The id of a token spelled exactly {@code text}, or -1. */
    int id(String text) {
        Integer id = ids.get(text);
        return id == null ? -1 : id;
    }

    boolean isControl(int id) {
        return types[id] == TYPE_CONTROL;
    }

    private int checkedId(Metadata metadata, String key) {
        int id = metadata.integer(key, SpecialTokens.NONE);
        if (id != SpecialTokens.NONE && (id < 0 || id >= texts.length)) {
            throw new TokenizerException(key + " = " + id + " is outside the vocabulary of " + texts.length + " tokens");
        }
        return id;
    }
}
