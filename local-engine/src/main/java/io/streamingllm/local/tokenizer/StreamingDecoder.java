package io.streamingllm.local.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Turns token ids, one at a time, into text deltas that never split a UTF-8 character: bytes of an incomplete
 * character (from multi-byte pieces or byte tokens {@code <0xNN>}) wait for the tokens that complete it.
 * Bytes that can never form a character are emitted as U+FFFD.
 *
 * <p>At the start of text (right after BOS, or when constructed with {@code atTextStart}) a vocabulary that adds a
 * space prefix has its first piece lose one leading space, as llama.cpp's detokenizer does, so a generation from
 * BOS reads "Once upon" rather than " Once upon". Not thread-safe: one decoder per generation.
 */
public final class StreamingDecoder {
    private final Tokenizer tokenizer;
    private final int bos;
    private byte[] pending = new byte[16];
    private int pendingSize;
    private boolean stripNextSpace;

    /**
     * @param atTextStart true when the ids that follow begin the text (the prompt was only BOS, or these ids are
     *                    a whole sequence); false when they continue a prompt
     */
    public StreamingDecoder(Tokenizer tokenizer, boolean atTextStart) {
        this.tokenizer = tokenizer;
        this.bos = tokenizer.specialTokens().bos();
        this.stripNextSpace = atTextStart && tokenizer.addsSpacePrefix();
    }

    /** The text that token {@code id} completes; empty while a character is incomplete or for control tokens. */
    public String accept(int id) {
        if (id == bos && bos >= 0) {
            stripNextSpace = tokenizer.addsSpacePrefix();
            return "";
        }
        byte[] piece = tokenizer.decodeBytes(id);
        int from = 0;
        if (stripNextSpace && piece.length > 0) {
            stripNextSpace = false;
            if (piece[0] == ' ' && pendingSize == 0) {
                from = 1;
            }
        }
        append(piece, from);
        int complete = completeLength();
        if (complete == 0) {
            return "";
        }
        String text = new String(pending, 0, complete, StandardCharsets.UTF_8);
        System.arraycopy(pending, complete, pending, 0, pendingSize - complete);
        pendingSize -= complete;
        return text;
    }

    /** Whatever is still buffered (an unfinished character becomes U+FFFD); call when the generation ends. */
    public String flush() {
        String text = new String(pending, 0, pendingSize, StandardCharsets.UTF_8);
        pendingSize = 0;
        return text;
    }

    private void append(byte[] piece, int from) {
        int n = piece.length - from;
        if (pendingSize + n > pending.length) {
            pending = Arrays.copyOf(pending, Math.max(pending.length * 2, pendingSize + n));
        }
        System.arraycopy(piece, from, pending, pendingSize, n);
        pendingSize += n;
    }

    /** Length of the buffered prefix that ends on a character boundary: all but a trailing incomplete sequence. */
    private int completeLength() {
        // Look back at most 3 bytes for the lead byte of the last sequence.
        for (int back = 1; back <= Math.min(3, pendingSize); back++) {
            int b = pending[pendingSize - back] & 0xFF;
            if ((b & 0xC0) == 0x80) {
                continue; // continuation byte: keep looking for its lead
            }
            int needed = (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
            return needed > back ? pendingSize - back : pendingSize;
        }
        return pendingSize; // only continuation bytes (or none) at the end: nothing can complete them later
    }
}
