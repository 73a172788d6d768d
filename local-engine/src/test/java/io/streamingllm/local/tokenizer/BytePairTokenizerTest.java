package io.streamingllm.local.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Byte-level BPE on a vocabulary built in the test: pre-tokenisation, byte mapping, merge order, specials. */
class BytePairTokenizerTest {

    @Test
    void llama3PreTokenizerSplitsAsTheReferenceExpression() {
        PreTokenizer llama3 = PreTokenizer.forName("llama-bpe");
        assertEquals("llama3", llama3.name());
        assertEquals(List.of("Hello", " world", "'s", " ", "123", "456", "7", " \n\n", " ", " x", "!!\n"),
                llama3.split("Hello world's 1234567 \n\n  x!!\n"));
        assertEquals(List.of("DON", "'T", " shout", ",", " ok", "?"), llama3.split("DON'T shout, ok?"));
        assertEquals(List.of("naïve", " café", " 日本語", " 🙂"), llama3.split("naïve café 日本語 🙂"));
        assertEquals(List.of("a", "   ", " b", "  "), llama3.split("a    b  "));
    }

    @Test
    void qwen2PreTokenizerSplitsDigitsOneByOne() {
        PreTokenizer qwen2 = PreTokenizer.forName("qwen2");
        assertEquals("qwen2", qwen2.name());
        assertEquals(List.of("x", "=", "1", "2", "3", "4", " +", " ", "5"), qwen2.split("x=1234 + 5"));
    }

    @Test
    void unknownPreTokenizerNamesUseGpt2sExpression() {
        PreTokenizer gpt2 = PreTokenizer.forName("something-new");
        assertEquals("gpt2", gpt2.name());
        assertEquals(List.of("Hello", " world", "'s", " 1234567"), gpt2.split("Hello world's 1234567"));
    }

    @Test
    void byteMappingIsGpt2sAndRoundTrips() {
        assertEquals("\u0120", ByteLevel.encode(" "));
        assertEquals("\u010A", ByteLevel.encode("\n"));
        assertEquals("A~!", ByteLevel.encode("A~!"));
        assertEquals("\u0143", ByteLevel.encode(new byte[] {(byte) 0xAD}));
        Set<Character> seen = new HashSet<>();
        for (int b = 0; b < 256; b++) {
            String mapped = ByteLevel.encode(new byte[] {(byte) b});
            assertEquals(1, mapped.length());
            assertTrue(seen.add(mapped.charAt(0)), "distinct character for byte " + b);
            assertArrayEquals(new byte[] {(byte) b}, ByteLevel.decode(mapped));
        }
        String text = "héllo 🙂 日本";
        assertArrayEquals(text.getBytes(StandardCharsets.UTF_8), ByteLevel.decode(ByteLevel.encode(text)));
    }

    @Test
    void mergesApplyLowestRankFirst() {
        SyntheticVocab abFirst = new SyntheticVocab().merge("a", "b").merge("b", "c");
        Tokenizer t1 = abFirst.tokenizer("qwen2");
        assertArrayEquals(new int[] {abFirst.id("ab"), abFirst.id("c")}, t1.encode("abc"));

        SyntheticVocab bcFirst = new SyntheticVocab().merge("b", "c").merge("a", "b");
        Tokenizer t2 = bcFirst.tokenizer("qwen2");
        assertArrayEquals(new int[] {bcFirst.id("a"), bcFirst.id("bc")}, t2.encode("abc"));

        // Equal pairs merge left first; merged symbols merge again by their own rank.
        SyntheticVocab v = new SyntheticVocab().merge("a", "a").merge("aa", "a");
        assertArrayEquals(new int[] {v.id("aaa")}, v.tokenizer("qwen2").encode("aaa"));
        assertArrayEquals(new int[] {v.id("aa"), v.id("aa")}, v.tokenizer("qwen2").encode("aaaa"));
    }

    @Test
    void mergesWorkOnMappedBytesIncludingTheSpaceMarker() {
        SyntheticVocab v = new SyntheticVocab().merge("h", "e").merge("\u0120", "t").merge("\u0120t", "he");
        Tokenizer t = v.tokenizer("llama3");
        assertArrayEquals(new int[] {v.id("t"), v.id("he"), v.id("\u0120the")}, t.encode("the the"));
    }

    @Test
    void llama3TakesAWordThatIsATokenWholeWithoutMerges() {
        SyntheticVocab v = new SyntheticVocab().normal("xyz");
        assertArrayEquals(new int[] {v.id("xyz")}, v.tokenizer("llama3").encode("xyz"));
        assertArrayEquals(SyntheticVocab.byteIds("xyz"), v.tokenizer("qwen2").encode("xyz"));
    }

    @Test
    void specialTokensAreMatchedOnlyWhenAsked() {
        SyntheticVocab v = new SyntheticVocab().merge("h", "i").control("<|begin_of_text|>").control("<|eot_id|>")
                .userDefined("<tool>")
                .put("tokenizer.ggml.bos_token_id", 256 + 1)
                .put("tokenizer.ggml.eos_token_id", 256 + 1);
        Tokenizer t = v.tokenizer("llama3");
        int eot = v.id("<|eot_id|>");
        int tool = v.id("<tool>");
        assertArrayEquals(new int[] {v.id("hi"), eot, v.id("hi")}, t.encode("hi<|eot_id|>hi", true));
        int[] plain = t.encode("hi<|eot_id|>", false);
        assertFalse(Arrays.stream(plain).anyMatch(id -> id == eot), "no special id without parseSpecial");
        assertEquals("hi<|eot_id|>", t.decode(plain));
        // User-defined tokens are always matched, as llama.cpp does.
        assertArrayEquals(new int[] {tool, v.id("hi")}, t.encode("<tool>hi", false));
        assertEquals(eot, t.specialTokens().eot());
        assertTrue(t.specialTokens().endOfGeneration().contains(eot));
        assertTrue(t.isControl(eot));
        assertEquals("", t.decodePiece(eot));
        assertEquals("<tool>", t.decodePiece(tool));
    }

    @Test
    void bosAndEndOfGenerationDefaultsFollowLlamaCpp() {
        SyntheticVocab v = new SyntheticVocab().control("<|begin_of_text|>").control("<|im_end|>").control("<|endoftext|>");
        v.put("tokenizer.ggml.bos_token_id", v.id("<|begin_of_text|>"))
                .put("tokenizer.ggml.eos_token_id", v.id("<|im_end|>"));
        // Without tokenizer.ggml.add_bos_token: Llama 3 vocabularies add BOS, Qwen2 ones do not.
        assertTrue(v.tokenizer("llama-bpe").specialTokens().addBos());
        assertFalse(v.tokenizer("qwen2").specialTokens().addBos());
        SpecialTokens s = v.tokenizer("qwen2").specialTokens();
        assertEquals(v.id("<|im_end|>"), s.eot());
        assertEquals(Set.of(v.id("<|im_end|>"), v.id("<|endoftext|>")), s.endOfGeneration());
    }

    @Test
    void roundTripsManyStringsWithBothPreTokenizers() {
        SyntheticVocab v = new SyntheticVocab().merge("\u0120", "t").merge("h", "e").merge("\u0120t", "he")
                .merge("\u0120", "\u0120").merge("\u010A", "\u010A").merge("1", "2").merge("12", "3");
        List<String> samples = List.of("", "the the  the", "  leading", "trailing   ", "line\n\nbreaks\r\n",
                "123456789 and 12 3", "emoji 🎉👨‍👩‍👧 mixed", "日本語とEnglish", "Ελληνικά και русский",
                "it's they'RE I'll", "\t\ttabs", "<|eot_id|> as text", "x".repeat(1000), "surrogates 𝔘𝔫𝔦𝔠𝔬𝔡𝔢");
        for (String pre : List.of("llama3", "qwen2", "gpt-2", "smollm")) {
            Tokenizer t = v.tokenizer(pre);
            for (String s : samples) {
                assertEquals(s, t.decode(t.encode(s)), () -> pre + " round trip of " + s);
            }
        }
    }

    @Test
    void encodesALongPromptInOnePass() {
        SyntheticVocab v = new SyntheticVocab().merge("\u0120", "t").merge("h", "e").merge("\u0120t", "he");
        Tokenizer t = v.tokenizer("llama3");
        String text = "the cat sat on the mat, and the dog 🐶 ran after the ball 12345. ".repeat(200);
        int[] ids = t.encode(text);
        assertTrue(ids.length > 2_000, "tokens: " + ids.length);
        assertEquals(text, t.decode(ids));
    }

    @Test
    void badMetadataGivesAClearError() {
        Map<String, Object> noMerges = new SyntheticVocab().metadata("llama3");
        noMerges.remove("tokenizer.ggml.merges");
        TokenizerException e = assertThrows(TokenizerException.class, () -> Tokenizer.fromGguf(noMerges));
        assertTrue(e.getMessage().contains("tokenizer.ggml.merges"), e.getMessage());

        Map<String, Object> bert = new SyntheticVocab().metadata("llama3");
        bert.put("tokenizer.ggml.model", "bert");
        e = assertThrows(TokenizerException.class, () -> Tokenizer.fromGguf(bert));
        assertTrue(e.getMessage().contains("bert"), e.getMessage());

        Map<String, Object> badBos = new SyntheticVocab().metadata("llama3");
        badBos.put("tokenizer.ggml.bos_token_id", 99_999);
        e = assertThrows(TokenizerException.class, () -> Tokenizer.fromGguf(badBos));
        assertTrue(e.getMessage().contains("bos_token_id"), e.getMessage());

        Map<String, Object> wrongType = new SyntheticVocab().metadata("llama3");
        wrongType.put("tokenizer.ggml.tokens", new int[] {1, 2});
        e = assertThrows(TokenizerException.class, () -> Tokenizer.fromGguf(wrongType));
        assertNotNull(e.getMessage());
        assertTrue(e.getMessage().contains("tokenizer.ggml.tokens"), e.getMessage());

        TokenizerException none = assertThrows(TokenizerException.class, () -> Tokenizer.fromGguf(Map.of()));
        assertTrue(none.getMessage().contains("tokenizer.ggml.model"), none.getMessage());
    }
}
