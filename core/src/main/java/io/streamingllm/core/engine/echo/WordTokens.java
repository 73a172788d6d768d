package io.streamingllm.core.engine.echo;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits text into word tokens: each token is a run of whitespace followed by a run of non-whitespace
 * (the first token carries any leading whitespace, trailing whitespace is a token of its own), so the
 * tokens concatenate to the text exactly. The echo engine streams and counts these tokens.
 */
public final class WordTokens {
    private WordTokens() {
    }

    /** The word tokens of {@code text}, in order; empty for an empty text. */
    public static List<String> split(String text) {
        List<String> tokens = new ArrayList<>();
        int n = text.length();
        int start = 0;
        while (start < n) {
            int end = next(text, start);
            tokens.add(text.substring(start, end));
            start = end;
        }
        return tokens;
    }

    /** Number of word tokens of {@code text}, without allocating them. */
    public static int count(String text) {
        int count = 0;
        int n = text.length();
        int start = 0;
        while (start < n) {
            start = next(text, start);
            count++;
        }
        return count;
    }

    /** End (exclusive) of the token that starts at {@code start}. */
    static int next(String text, int start) {
        int n = text.length();
        int i = start;
        while (i < n && Character.isWhitespace(text.charAt(i))) {
            i++;
        }
        while (i < n && !Character.isWhitespace(text.charAt(i))) {
            i++;
        }
        return i;
    }
}
