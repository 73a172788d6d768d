package io.streamingllm.local.tokenizer;

import java.util.Set;

/**
 * The special token ids of a vocabulary; {@link #NONE} (-1) when the model has no such token.
 *
 * @param bos beginning of sequence ({@code tokenizer.ggml.bos_token_id})
 * @param eos end of sequence ({@code tokenizer.ggml.eos_token_id})
 * @param eot end of turn ({@code tokenizer.ggml.eot_token_id}, else a token spelled {@code <|eot_id|>},
 *            {@code <|im_end|>}, {@code <|end|>} or {@code <end_of_turn>})
 * @param eom end of message ({@code tokenizer.ggml.eom_token_id}, else {@code <|eom_id|>})
 * @param unknown the unknown token ({@code tokenizer.ggml.unknown_token_id}, else {@code <unk>})
 * @param addBos whether prompts start with {@code bos} ({@code tokenizer.ggml.add_bos_token})
 * @param addEos whether prompts end with {@code eos} ({@code tokenizer.ggml.add_eos_token})
 * @param endOfGeneration every id that ends a generation: eos, eot, eom and the end-of-turn tokens above
 */
public record SpecialTokens(int bos, int eos, int eot, int eom, int unknown, boolean addBos, boolean addEos,
                            Set<Integer> endOfGeneration) {
    public static final int NONE = -1;

    public SpecialTokens {
        endOfGeneration = Set.copyOf(endOfGeneration);
    }
}
