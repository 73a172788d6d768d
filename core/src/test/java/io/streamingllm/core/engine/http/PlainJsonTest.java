package io.streamingllm.core.engine.http;

import jakarta.json.Json;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The string reading every fast path shares, which scans eight bytes a step: strings of quotes, backslashes, control
 * characters and multi-byte UTF-8 at every offset and length read back as JSON writes them, and whatever JSON forbids
 * in a string leaves the fast path.
 */
class PlainJsonTest {

    private static final String[] PIECES = {"a", "Z", " ", "0", "\"", "\\", "\n", "\t", "\u0001", "\u001f", "/", "é",
            "€", "😀", "~", "\u007f"};

    /** Exposes the protected readers over {@code b[from, from + length)}. */
    private static final class Cursor extends PlainJson {
        Cursor(byte[] b, int from, int length) {
            super(b, from, length);
        }

        int at() {
            return pos;
        }
    }

    @Test
    void stringsReadBackAsJsonWroteThemAtEveryOffset() {
        Random random = new Random(20261201);
        for (int round = 0; round < 20_000; round++) {
            StringBuilder text = new StringBuilder();
            int pieces = random.nextInt(40);
            for (int i = 0; i < pieces; i++) {
                text.append(PIECES[random.nextInt(PIECES.length)]);
            }
            String literal = Json.createValue(text.toString()).toString();
            // the literal at a random offset in a larger array, with a quote right after it: the scan must stop at
            // the literal's own quote and never look past the record's end
            int before = random.nextInt(9);
            byte[] lit = literal.getBytes(StandardCharsets.UTF_8);
            byte[] b = new byte[before + lit.length + 9];
            java.util.Arrays.fill(b, (byte) '"');
            System.arraycopy(lit, 0, b, before, lit.length);

            Cursor read = new Cursor(b, before, lit.length);
            assertEquals(text.toString(), read.string(), literal);
            assertEquals(before + lit.length, read.at(), literal);

            Cursor skipped = new Cursor(b, before, lit.length);
            skipped.skipString(false);
            assertEquals(before + lit.length, skipped.at(), literal);

            Cursor key = new Cursor(b, before, lit.length);
            if (literal.indexOf('\\') >= 0) {
                assertThrows(PlainJson.NotPlain.class, () -> key.skipString(true), literal);
            } else {
                key.skipString(true);
                assertEquals(before + lit.length, key.at(), literal);
            }
        }
    }

    @Test
    void whatJsonForbidsInAStringLeavesTheFastPath() {
        Random random = new Random(7);
        for (int round = 0; round < 5_000; round++) {
            int length = 1 + random.nextInt(30);
            byte[] inner = new byte[length];
            for (int i = 0; i < length; i++) {
                inner[i] = (byte) ('a' + random.nextInt(26));
            }
            inner[random.nextInt(length)] = (byte) random.nextInt(0x20); // a raw control byte
            byte[] b = new byte[length + 2];
            b[0] = '"';
            System.arraycopy(inner, 0, b, 1, length);
            b[length + 1] = '"';
            assertThrows(PlainJson.NotPlain.class, () -> new Cursor(b, 0, b.length).string());
            assertThrows(PlainJson.NotPlain.class, () -> new Cursor(b, 0, b.length).skipString(false));
            // the same string without its closing quote inside the record's bounds
            assertThrows(PlainJson.NotPlain.class, () -> new Cursor(b, 0, b.length - 1).string());
        }
        byte[] unterminated = "\"abcdefghijklmnopqrstuvwxyz\"".getBytes(StandardCharsets.US_ASCII);
        assertThrows(PlainJson.NotPlain.class, () -> new Cursor(unterminated, 0, unterminated.length - 1).string());
        assertThrows(PlainJson.NotPlain.class, () -> new Cursor(unterminated, 0, unterminated.length - 1).skipString(false));
        byte[] badEscape = "\"abcdefgh\\x\"".getBytes(StandardCharsets.US_ASCII);
        assertThrows(PlainJson.NotPlain.class, () -> new Cursor(badEscape, 0, badEscape.length).string());
    }
}
