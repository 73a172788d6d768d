package io.streamingllm.server.openai;

import io.streamingllm.server.stream.Utf8Buffer;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A token's record in byte form is the text form's bytes: the first (with the role) and the rest, chat and completion. */
class OpenAiFormatBytesTest {
    @Test
    void tokenBytesAreTheTokenTextsBytes() {
        for (boolean chat : List.of(true, false)) {
            for (String model : List.of("m", "modèle \"q\" 😀")) {
                OpenAiFormat text = new OpenAiFormat(chat, model, false, null);
                OpenAiFormat bytes = new OpenAiFormat(chat, model, false, null);
                // the two formats' ids differ: compare each record with its own format's head swapped in
                for (String delta : List.of("Hello", " wé", "\"\\\n", "\ud83d\ude00", "\ud83d", "")) {
                    StringBuilder sb = new StringBuilder();
                    text.token(sb, delta);
                    Utf8Buffer out = new Utf8Buffer(8);
                    assertTrue(bytes.token(out, delta));
                    String got = new String(Arrays.copyOf(out.array(), out.length()), StandardCharsets.UTF_8);
                    String want = new String(sb.toString().getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
                    assertArrayEquals(sameIds(want).getBytes(StandardCharsets.UTF_8), sameIds(got).getBytes(StandardCharsets.UTF_8),
                            chat + " " + model + " " + delta);
                }
            }
        }
    }

    /** The record with its random id and clock second replaced, the only parts two formats of a reply differ in. */
    private static String sameIds(String record) {
        return record.replaceAll("\"id\":\"[a-z]+-[0-9a-f]+\",\"created\":[0-9]+", "\"id\":\"ID\",\"created\":0");
    }
}
