package io.streamingllm.server.stream;

import io.streamingllm.server.json.JsonText;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/** The byte form of a quoted delta is the text form's bytes, whatever the text: the wire is the same either way. */
class Utf8BufferTest {
    @Test
    void quotedBytesAreTheQuotedTextsBytes() {
        char[] alphabet = {'a', ' ', '"', '\\', '\n', '\r', '\t', '\b', 0, 0x1f, 0x7f, 0x80, 0xe9, 0x7ff, 0x800, 0x2028,
                0x2029, 0xfffd, 0xffff, '\ud83d', '\ude00', '/', '<'};
        Random random = new Random(7);
        Utf8Buffer buffer = new Utf8Buffer(4);
        for (int i = 0; i < 20_000; i++) {
            char[] text = new char[random.nextInt(12)];
            for (int k = 0; k < text.length; k++) {
                text[k] = random.nextInt(4) == 0 ? (char) random.nextInt(0x10000) : alphabet[random.nextInt(alphabet.length)];
            }
            String s = new String(text);
            buffer.clear();
            buffer.append("x".getBytes(StandardCharsets.US_ASCII));
            buffer.appendQuoted(s);
            byte[] expected = ("x" + JsonText.quote(s)).getBytes(StandardCharsets.UTF_8);
            assertArrayEquals(expected, Arrays.copyOf(buffer.array(), buffer.length()), s);
        }
    }
}
