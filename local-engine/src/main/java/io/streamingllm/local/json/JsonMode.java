package io.streamingllm.local.json;

import io.streamingllm.core.engine.ResponseFormat;
import io.streamingllm.local.tokenizer.Tokenizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * JSON output for one model: compiles a {@link ResponseFormat} ({@code json}: any object; {@code json_schema}:
 * see {@link SchemaCompiler}) into a {@link JsonConstraint} for a generation, over the model's vocabulary trie
 * (built on first use). What cannot be enforced is an {@link IllegalArgumentException} naming it: a schema
 * keyword, a vocabulary without one-byte tokens for the bytes JSON needs, or {@code max_new_tokens} too small
 * to close the smallest valid value.
 *
 * <p>Thread-safe: the trie is built once under a lock; constraints belong to one generation.
 */
public final class JsonMode {
    private final Tokenizer tokenizer;
    private final int[] stopTokens;
    private TokenTrie trie; // guarded by this

    public JsonMode(Tokenizer tokenizer, Set<Integer> stopTokens) {
        this.tokenizer = tokenizer;
        this.stopTokens = stopTokens.stream().mapToInt(Integer::intValue).filter(t -> t >= 0).toArray();
    }

    private synchronized TokenTrie trie() {
        if (trie == null) {
            trie = new TokenTrie(tokenizer);
        }
        return trie;
    }

    /** The constraint for one generation of at most {@code maxNewTokens} tokens. */
    public JsonConstraint start(ResponseFormat format, int maxNewTokens) {
        JsonGrammar grammar = switch (format.type()) {
            case JSON -> SchemaCompiler.anyObject();
            case JSON_SCHEMA -> SchemaCompiler.schema(format.schema());
            case NONE -> throw new IllegalArgumentException("free text needs no JSON constraint");
        };
        TokenTrie vocab = trie();
        List<String> missing = new ArrayList<>();
        for (int x = 0; x < 256; x++) {
            boolean needed = (x >= 0x20 && x < 0x7F) || grammar.literalBytes[x];
            if (needed && !vocab.singleByte[x]) {
                missing.add(String.format("0x%02X", x));
            }
        }
        if (!missing.isEmpty()) {
            throw new IllegalArgumentException("this model's vocabulary has no single-byte tokens for " + missing
                    + ", which JSON output needs; JSON output is not available with it");
        }
        int least = grammar.minBytes[grammar.root];
        if (least > maxNewTokens) {
            throw new IllegalArgumentException("max_new_tokens " + maxNewTokens + " is too small for this JSON format: "
                    + "its smallest valid value takes " + least + " tokens");
        }
        return new JsonConstraint(grammar, vocab, stopTokens);
    }

    /** Checks that {@code format} can be enforced within {@code maxNewTokens} tokens. */
    public void check(ResponseFormat format, int maxNewTokens) {
        start(format, maxNewTokens);
    }
}
