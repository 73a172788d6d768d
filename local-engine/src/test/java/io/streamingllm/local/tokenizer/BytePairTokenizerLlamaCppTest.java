package io.streamingllm.local.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamingllm.local.llamacpp.LlamaCppFixtures;
import io.streamingllm.local.llamacpp.LlamaCppFixtures.TokenizerCase;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Byte-level BPE against llama.cpp on generated vocabulary-only GGUFs (scripts/crosscheck/make-bpe-vocab.mjs):
 * one with the Llama 3 pre-tokenizer ({@code llama-bpe}), one with Qwen2's.
 */
class BytePairTokenizerLlamaCppTest {

    @ParameterizedTest
    @ValueSource(strings = {"bpe-llama3", "bpe-qwen2"})
    void encodesAndDecodesEveryFixtureStringAsLlamaCppDoes(String name) {
        Tokenizer tokenizer = Tokenizer.fromGguf(LlamaCppFixtures.vocabMetadata(name));
        List<TokenizerCase> cases = LlamaCppFixtures.tokenizerCases(name);
        assertTrue(cases.size() > 30, "fixture cases");
        for (TokenizerCase c : cases) {
            String text = SentencePieceTokenizerTest.quoted(c.text());
            assertArrayEquals(c.ids(), tokenizer.encode(c.text()), () -> name + " encode " + text);
            assertArrayEquals(c.idsParseSpecial(), tokenizer.encode(c.text(), true),
                    () -> name + " encode with special tokens " + text);
            assertEquals(c.detokenized(), tokenizer.decode(c.ids()), () -> name + " decode " + text);
        }
    }
}
