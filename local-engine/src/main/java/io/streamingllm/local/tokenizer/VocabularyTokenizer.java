package io.streamingllm.local.tokenizer;

import java.util.ArrayList;
import java.util.List;

/** What both tokenizers share: the vocabulary, special-token partitioning of the input, the lookups. */
abstract sealed class VocabularyTokenizer implements Tokenizer permits SentencePieceTokenizer, BytePairTokenizer {
    final Vocabulary vocab;

    VocabularyTokenizer(Vocabulary vocab) {
        this.vocab = vocab;
    }

    /** Encodes a fragment of text that holds no special tokens; {@code afterSpecial} at the start and after one. */
    abstract void encodeText(String text, boolean afterSpecial, IntList out);

    @Override
    public final int[] encode(String text, boolean parseSpecial) {
        IntList out = new IntList(text.length() / 3 + 4);
        boolean afterSpecial = true;
        for (Object fragment : partition(text, parseSpecial)) {
            if (fragment instanceof Integer id) {
                out.add(id);
                afterSpecial = true;
            } else {
                encodeText((String) fragment, afterSpecial, out);
                afterSpecial = false;
            }
        }
        return out.toArray();
    }

    /**
     * Splits text into plain strings and ids of special tokens spelled in it. As in llama.cpp, the tokens are
     * tried longest first, each over every plain fragment left by the ones before.
     */
    private List<Object> partition(String text, boolean parseSpecial) {
        List<Object> fragments = new ArrayList<>();
        if (text.isEmpty()) {
            return fragments;
        }
        fragments.add(text);
        for (int id : vocab.partitionTokens) {
            int type = vocab.types[id];
            if (!parseSpecial && type != Vocabulary.TYPE_USER_DEFINED) {
                continue;
            }
            String special = vocab.texts[id];
            for (int i = 0; i < fragments.size(); i++) {
                if (!(fragments.get(i) instanceof String s)) {
                    continue;
                }
                int at = s.indexOf(special);
                if (at < 0) {
                    continue;
                }
                List<Object> split = new ArrayList<>();
                int from = 0;
                while (at >= 0) {
                    if (at > from) {
                        split.add(s.substring(from, at));
                    }
                    split.add(id);
                    from = at + special.length();
                    at = s.indexOf(special, from);
                }
                if (from < s.length()) {
                    split.add(s.substring(from));
                }
                fragments.remove(i);
                fragments.addAll(i, split);
                i += split.size() - 1;
            }
        }
        return fragments;
    }

    @Override
    public String tokenText(int id) {
        checkId(id);
        return vocab.texts[id];
    }

    @Override
    public int tokenId(String text) {
        return vocab.id(text);
    }

    @Override
    public boolean isControl(int id) {
        checkId(id);
        return vocab.isControl(id);
    }

    @Override
    public int vocabSize() {
        return vocab.size();
    }

    @Override
    public SpecialTokens specialTokens() {
        return vocab.special;
    }

    void checkId(int id) {
        if (id < 0 || id >= vocab.size()) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary of " + vocab.size());
        }
    }
}
