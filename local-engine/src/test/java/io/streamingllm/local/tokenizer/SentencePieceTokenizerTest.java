package io.streamingllm.local.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.streamingllm.local.llamacpp.LlamaCppFixtures;
import io.streamingllm.local.llamacpp.LlamaCppFixtures.GenerationCase;
import io.streamingllm.local.llamacpp.LlamaCppFixtures.TokenizerCase;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The stories260K SentencePiece vocabulary against llama.cpp's own tokenisation (committed fixtures). */
class SentencePieceTokenizerTest {
    private static final Tokenizer TOKENIZER = Tokenizer.fromGguf(LlamaCppFixtures.vocabMetadata("stories260K"));

    @Test
    void encodesEveryFixtureStringAsLlamaCppDoes() {
        List<TokenizerCase> cases = LlamaCppFixtures.tokenizerCases("stories260K");
        assertTrue(cases.size() > 30, "fixture cases");
        for (TokenizerCase c : cases) {
            assertArrayEquals(c.ids(), TOKENIZER.encode(c.text()), () -> "encode " + quoted(c.text()));
            assertArrayEquals(c.idsParseSpecial(), TOKENIZER.encode(c.text(), true),
                    () -> "encode with special tokens " + quoted(c.text()));
        }
    }

    @Test
    void decodesEveryFixtureAsLlamaCppDetokenizes() {
        for (TokenizerCase c : LlamaCppFixtures.tokenizerCases("stories260K")) {
            assertEquals(c.detokenized(), TOKENIZER.decode(c.ids()), () -> "decode " + quoted(c.text()));
        }
    }

    @Test
    void promptIdsOfTheGenerationFixturesAreBosPlusEncode() {
        int bos = TOKENIZER.specialTokens().bos();
        for (GenerationCase g : LlamaCppFixtures.generationCases("stories260K")) {
            if (g.text() == null) {
                continue;
            }
            int[] encoded = TOKENIZER.encode(g.text());
            int[] expected = new int[encoded.length + 1];
            expected[0] = bos;
            System.arraycopy(encoded, 0, expected, 1, encoded.length);
            assertArrayEquals(g.promptIds(), expected, g.name());
        }
    }

    @Test
    void streamsGeneratedIdsToLlamaCppsText() {
        for (GenerationCase g : LlamaCppFixtures.generationCases("stories260K")) {
            boolean fromBos = g.promptIds().length == 1;
            StreamingDecoder decoder = new StreamingDecoder(TOKENIZER, fromBos);
            StringBuilder text = new StringBuilder();
            for (int id : g.generated()) {
                text.append(decoder.accept(id));
            }
            text.append(decoder.flush());
            assertEquals(g.generatedText(), text.toString(), g.name());
        }
    }

    @Test
    void readmeReferencePromptAndGreedyTextDecode() {
        assertArrayEquals(new int[] {403, 407, 261, 378}, TOKENIZER.encode("Once upon a time"));
        assertEquals("Once upon a time", TOKENIZER.decode(new int[] {1, 403, 407, 261, 378}));
    }

    @Test
    void specialTokensComeFromMetadata() {
        SpecialTokens s = TOKENIZER.specialTokens();
        assertEquals(1, s.bos());
        assertEquals(2, s.eos());
        assertEquals(0, s.unknown());
        assertEquals(SpecialTokens.NONE, s.eot());
        assertTrue(s.addBos());
        assertFalse(s.addEos());
        assertEquals(Set.of(2), s.endOfGeneration());
        assertEquals(512, TOKENIZER.vocabSize());
        assertTrue(TOKENIZER.addsSpacePrefix());
        assertTrue(TOKENIZER.isControl(1));
        assertEquals("", TOKENIZER.decodePiece(1));
        assertEquals("\u2581time", TOKENIZER.tokenText(378));
        assertEquals(" time", TOKENIZER.decodePiece(378));
    }

    @Test
    void unknownCharactersFallBackToUtf8ByteTokens() {
        // U+1F642 is F0 9F 99 82: byte tokens are <0xNN> at id 3 + NN.
        assertArrayEquals(new int[] {410, 3 + 0xF0, 3 + 0x9F, 3 + 0x99, 3 + 0x82}, TOKENIZER.encode("\uD83D\uDE42"));
    }

    @Test
    void roundTripsManyStrings() {
        List<String> samples = List.of("Once upon a time", "  leading spaces", "trailing  ", "tabs\tand\nnewlines\r\n",
                "emoji 🎉👨‍👩‍👧 mixed", "日本語とEnglish", "Ελληνικά και русский", "math ∑∞≈ 3.14159",
                "quotes \"'` and <s> </s> <unk> as text", "a".repeat(300), "x y ".repeat(200), "\u0000\u0001 control",
                "surrogates 𝔘𝔫𝔦𝔠𝔬𝔡𝔢");
        for (String s : samples) {
            assertEquals(s, TOKENIZER.decode(TOKENIZER.encode(s)), () -> "round trip " + quoted(s));
        }
    }

    @Test
    void encodesALongPromptOfManyThousandCharacters() {
        String story = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. ";
        String text = story.repeat(100); // ~9,500 characters, well over 2,000 tokens
        int[] ids = TOKENIZER.encode(text);
        assertTrue(ids.length > 2_000, "tokens: " + ids.length);
        assertEquals(text, TOKENIZER.decode(ids));
        // The llama.cpp fixtures include a text like this one (tokenizer.json, last case), compared above.
    }

    static String quoted(String s) {
        return '"' + s.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t") + '"';
    }
}
