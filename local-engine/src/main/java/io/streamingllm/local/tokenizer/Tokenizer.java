package io.streamingllm.local.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Turns text into a model's token ids and ids back into bytes, as llama.cpp does for the same GGUF vocabulary.
 *
 * <p>Implementations are immutable and safe to share between threads.
 */
public interface Tokenizer {

    /** Token ids of {@code text}, without BOS; special-token texts such as {@code <s>} are encoded as plain text. */
    default int[] encode(String text) {
        return encode(text, false);
    }

    /**
     * Token ids of {@code text}, without BOS. With {@code parseSpecial}, control and unknown tokens spelled in the
     * text (for example {@code <|eot_id|>}) become their single ids; user-defined tokens always do, as in llama.cpp.
     * A SentencePiece vocabulary that adds a space prefix adds it at the start of the text and after each special
     * token matched in it.
     */
    int[] encode(String text, boolean parseSpecial);

    /**
     * The bytes token {@code id} stands for in generated text: UTF-8 of the piece, the single byte of a byte token
     * ({@code <0xNN>}), nothing for control tokens such as BOS and EOS. A piece may be part of a UTF-8 character; use
     * {@link StreamingDecoder} to turn a stream of ids into text.
     */
    byte[] decodeBytes(int id);

    /** {@link #decodeBytes} as a string (incomplete UTF-8 becomes U+FFFD). */
    default String decodePiece(int id) {
        return new String(decodeBytes(id), StandardCharsets.UTF_8);
    }

    /**
     * The text of a whole id sequence as llama.cpp's {@code llama_detokenize} with {@code remove_special} gives it:
     * a leading BOS is dropped, control tokens contribute nothing, and when the vocabulary adds a space prefix the
     * first piece loses one leading space. {@code decode(encode(s)).equals(s)} for text without special tokens.
     */
    default String decode(int[] ids) {
        StreamingDecoder decoder = new StreamingDecoder(this, true);
        StringBuilder out = new StringBuilder();
        for (int id : ids) {
            out.append(decoder.accept(id));
        }
        return out.append(decoder.flush()).toString();
    }

    /** The vocabulary's own spelling of token {@code id} (SentencePiece marks spaces with U+2581). */
    String tokenText(int id);

    /** The id of the token spelled exactly {@code text}, or -1. */
    int tokenId(String text);

    /** True for control tokens (BOS, EOS, chat-template markers), which decode to nothing. */
    boolean isControl(int id);

    int vocabSize();

    SpecialTokens specialTokens();

    /** True when encoding adds a leading space (SentencePiece {@code tokenizer.ggml.add_space_prefix}). */
    boolean addsSpacePrefix();

    /**
     * The tokenizer the GGUF metadata describes, chosen by {@code tokenizer.ggml.model}: {@code llama} for
     * SentencePiece BPE with scores and byte fallback, {@code gpt2} for byte-level BPE with merges and the
     * pre-tokenizer {@code tokenizer.ggml.pre} names.
     *
     * @throws TokenizerException when the metadata is incomplete or names an unsupported tokenizer
     */
    static Tokenizer fromGguf(Map<String, Object> metadata) {
        Metadata m = new Metadata(metadata);
        String model = m.requireString("tokenizer.ggml.model");
        return switch (model) {
            case "llama" -> new SentencePieceTokenizer(new Vocabulary(m, true),
                    m.bool("tokenizer.ggml.add_space_prefix", true));
            case "gpt2" -> {
                // As llama.cpp: Llama 3 vocabularies add BOS unless the metadata says otherwise, other BPE ones do not.
                String pre = m.string("tokenizer.ggml.pre", "default");
                boolean llama3 = PreTokenizer.forName(pre).name().equals("llama3");
                yield new BytePairTokenizer(new Vocabulary(m, llama3), m.strings("tokenizer.ggml.merges"), pre);
            }
            default -> throw new TokenizerException("unsupported tokenizer.ggml.model '" + model
                    + "' (supported: llama, gpt2)");
        };
    }
}
