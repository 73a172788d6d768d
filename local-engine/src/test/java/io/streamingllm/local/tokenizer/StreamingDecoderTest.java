package io.streamingllm.local.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.streamingllm.local.llamacpp.LlamaCppFixtures;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StreamingDecoderTest {
    private static final Tokenizer STORIES = Tokenizer.fromGguf(LlamaCppFixtures.vocabMetadata("stories260K"));
    private static final int BYTE_BASE = 3; // stories260K: <0x00> is id 3

    @Test
    void holdsBackBytesUntilTheCharacterIsComplete() {
        // 🎉 is F0 9F 8E 89, emitted as four byte tokens.
        StreamingDecoder d = new StreamingDecoder(STORIES, false);
        assertEquals("", d.accept(BYTE_BASE + 0xF0));
        assertEquals("", d.accept(BYTE_BASE + 0x9F));
        assertEquals("", d.accept(BYTE_BASE + 0x8E));
        assertEquals("🎉", d.accept(BYTE_BASE + 0x89));
        assertEquals("", d.flush());
    }

    @Test
    void neverEmitsHalfACharacterForAnyFixtureString() {
        for (LlamaCppFixtures.TokenizerCase c : LlamaCppFixtures.tokenizerCases("stories260K")) {
            StreamingDecoder d = new StreamingDecoder(STORIES, true);
            List<String> deltas = new ArrayList<>();
            for (int id : c.ids()) {
                deltas.add(d.accept(id));
            }
            deltas.add(d.flush());
            for (String delta : deltas) {
                assertFalse(delta.contains("\uFFFD"), () -> "replacement character while streaming " + c.text());
                if (!delta.isEmpty()) {
                    assertFalse(Character.isLowSurrogate(delta.charAt(0)), "delta starts inside a surrogate pair");
                    assertFalse(Character.isHighSurrogate(delta.charAt(delta.length() - 1)), "delta ends inside a pair");
                }
            }
            assertEquals(c.detokenized(), String.join("", deltas), c.text());
        }
    }

    @Test
    void textAfterAMultiByteCharacterFlowsInTheSameDelta() {
        StreamingDecoder d = new StreamingDecoder(STORIES, false);
        assertEquals("", d.accept(BYTE_BASE + 0xC3));
        assertEquals("é", d.accept(BYTE_BASE + 0xA9));
        assertEquals(" time", d.accept(378));
    }

    @Test
    void bytesThatCanNeverFormACharacterAreReplacedNotHeldForever() {
        StreamingDecoder d = new StreamingDecoder(STORIES, false);
        assertEquals("\uFFFD", d.accept(BYTE_BASE + 0x80)); // a stray continuation byte
        assertEquals("", d.accept(BYTE_BASE + 0xE2));
        assertEquals("\uFFFD", d.flush()); // generation ended mid-character
    }

    @Test
    void stripsTheSpacePrefixOfTheFirstPieceAfterBosOnly() {
        StreamingDecoder fromBos = new StreamingDecoder(STORIES, false);
        assertEquals("", fromBos.accept(1));
        assertEquals("Once", fromBos.accept(403));
        assertEquals(" upon", fromBos.accept(407));

        StreamingDecoder atStart = new StreamingDecoder(STORIES, true);
        assertEquals("time", atStart.accept(378));

        StreamingDecoder continuing = new StreamingDecoder(STORIES, false);
        assertEquals(" time", continuing.accept(378));
    }

    @Test
    void byteLevelTokensStreamTheSameWay() {
        Tokenizer t = new SyntheticVocab().tokenizer("llama3");
        StreamingDecoder d = new StreamingDecoder(t, true);
        StringBuilder out = new StringBuilder();
        for (int id : t.encode(" 日本 🙂")) {
            String delta = d.accept(id);
            assertFalse(delta.contains("\uFFFD"));
            out.append(delta);
        }
        assertEquals(" 日本 🙂", out.append(d.flush()).toString(), "gpt2 vocabularies keep the leading space");
    }
}
