package io.streamingllm.local.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.PriorityQueue;

/**
 * SentencePiece-style BPE over a vocabulary with scores ({@code tokenizer.ggml.model = llama}), as llama.cpp's SPM
 * tokenizer: spaces become U+2581, a space is prefixed at the start of the text and after special tokens when
 * {@code add_space_prefix} (default true), then the adjacent pair whose concatenation is the highest-scoring token
 * is merged until none is left; characters that form no token fall back to byte tokens {@code <0xNN>}.
 */
final class SentencePieceTokenizer extends VocabularyTokenizer {
    private static final char SPACE_MARK = '\u2581';
    private static final byte[] UNKNOWN_PIECE = "\u2585".getBytes(StandardCharsets.UTF_8);

    private final boolean addSpacePrefix;
    private final int[] byteTokens = new int[256];
    private final byte[][] pieces;

    SentencePieceTokenizer(Vocabulary vocab, boolean addSpacePrefix) {
        super(vocab);
        this.addSpacePrefix = addSpacePrefix;
        for (int b = 0; b < 256; b++) {
            byteTokens[b] = vocab.id(String.format("<0x%02X>", b));
        }
        pieces = new byte[vocab.size()][];
        for (int id = 0; id < vocab.size(); id++) {
            pieces[id] = piece(id);
        }
    }

    private byte[] piece(int id) {
        String text = vocab.texts[id];
        return switch (vocab.types[id]) {
            case Vocabulary.TYPE_CONTROL, Vocabulary.TYPE_UNUSED -> new byte[0];
            case Vocabulary.TYPE_UNKNOWN -> UNKNOWN_PIECE;
            case Vocabulary.TYPE_BYTE -> {
                if (text.length() != 6 || !text.startsWith("<0x") || !text.endsWith(">")) {
                    throw new TokenizerException("byte token " + id + " is spelled '" + text + "', not <0xNN>");
                }
                yield new byte[] {(byte) Integer.parseInt(text.substring(3, 5), 16)};
            }
            default -> text.replace(SPACE_MARK, ' ').getBytes(StandardCharsets.UTF_8);
        };
    }

    @Override
    public byte[] decodeBytes(int id) {
        checkId(id);
        return pieces[id].clone();
    }

    @Override
    public boolean addsSpacePrefix() {
        return addSpacePrefix;
    }

    private record Bigram(int left, int right, float score, int size) {
    }

    @Override
    void encodeText(String fragment, boolean afterSpecial, IntList out) {
        String text = (addSpacePrefix && afterSpecial ? " " + fragment : fragment).replace(' ', SPACE_MARK);
        int n = text.codePointCount(0, text.length());
        if (n == 0) {
            return;
        }
        // Symbols are a linked list over code points; merging a pair empties the right one.
        int[] start = new int[n];
        int[] length = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0, offset = 0; i < n; i++) {
            int cp = text.codePointAt(offset);
            start[i] = offset;
            length[i] = Character.charCount(cp);
            offset += length[i];
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>(Math.max(1, n),
                (a, b) -> a.score != b.score ? Float.compare(b.score, a.score) : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) {
            tryAddBigram(text, start, length, i - 1, i, queue);
        }
        while (!queue.isEmpty()) {
            Bigram bigram = queue.poll();
            int left = bigram.left;
            int right = bigram.right;
            if (length[left] == 0 || length[right] == 0 || length[left] + length[right] != bigram.size) {
                continue; // one side was merged since this pair was queued
            }
            length[left] += length[right];
            length[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            if (prev[left] >= 0) {
                tryAddBigram(text, start, length, prev[left], left, queue);
            }
            if (next[left] >= 0) {
                tryAddBigram(text, start, length, left, next[left], queue);
            }
        }
        for (int i = 0; i != -1; i = next[i]) {
            String symbol = text.substring(start[i], start[i] + length[i]);
            int id = vocab.id(symbol);
            if (id >= 0) {
                out.add(id);
            } else {
                for (byte b : symbol.getBytes(StandardCharsets.UTF_8)) {
                    int byteId = byteTokens[b & 0xFF];
                    int fallback = byteId >= 0 ? byteId : vocab.special.unknown();
                    if (fallback >= 0) {
                        out.add(fallback);
                    }
                }
            }
        }
    }

    private void tryAddBigram(String text, int[] start, int[] length, int left, int right, PriorityQueue<Bigram> queue) {
        int size = length[left] + length[right];
        int id = vocab.id(text.substring(start[left], start[left] + size));
        if (id >= 0) {
            queue.add(new Bigram(left, right, vocab.scores[id], size));
        }
    }
}
