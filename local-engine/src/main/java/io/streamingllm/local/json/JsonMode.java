package io.streamingllm.local.json;

import io.streamingllm.core.engine.ResponseFormat;
import io.streamingllm.local.tokenizer.Tokenizer;
import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import jakarta.json.JsonString;
import jakarta.json.JsonValue;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
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
        return start(grammar, maxNewTokens);
    }

    /**
     * The constraint of a tool call's arguments: an object valid against the tool's {@code parameters} schema (no
     * {@code type}: an object), or any object when the schema is not an object's or holds what this engine cannot
     * enforce (such as {@code format} or {@code anyOf}: the arguments are then JSON, not checked further).
     */
    public JsonConstraint arguments(JsonObject parameters, int maxNewTokens) {
        JsonValue type = parameters.get("type");
        JsonObject schema = type == null ? Json.createObjectBuilder(parameters).add("type", "object").build() : parameters;
        JsonGrammar grammar;
        try {
            grammar = "object".equals(type == null ? "object" : type instanceof JsonString s ? s.getString() : null)
                    ? SchemaCompiler.schema(schema) : SchemaCompiler.anyObject();
        } catch (IllegalArgumentException e) {
            grammar = SchemaCompiler.anyObject();
        }
        return start(grammar, maxNewTokens);
    }

    /** The constraint of one of {@code names} as a JSON string (a tool call's function name). */
    public JsonConstraint oneOf(List<String> names, int maxNewTokens) {
        JsonArrayBuilder values = Json.createArrayBuilder();
        names.forEach(values::add);
        return start(SchemaCompiler.schema(Json.createObjectBuilder().add("enum", values).build()), maxNewTokens);
    }

    /**
     * Tokens that spell {@code text} exactly when the model writes them: as the tokenizer encodes it when that
     * reads back as the same bytes, else the longest vocabulary tokens in turn (a SentencePiece vocabulary adds a
     * space in front, or spells spaces as U+2581 bytes); {@link IllegalArgumentException} when some byte has no
     * token.
     */
    public int[] spell(String text) {
        byte[] want = text.getBytes(StandardCharsets.UTF_8);
        int[] encoded = tokenizer.encode(text, false);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        for (int t : encoded) {
            got.writeBytes(tokenizer.decodeBytes(t));
        }
        if (Arrays.equals(want, got.toByteArray())) {
            return encoded;
        }
        int[] spelled = trie().spell(want);
        if (spelled == null) {
            throw new IllegalArgumentException("this model's vocabulary cannot spell " + text.strip());
        }
        return spelled;
    }

    private JsonConstraint start(JsonGrammar grammar, int maxNewTokens) {
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
