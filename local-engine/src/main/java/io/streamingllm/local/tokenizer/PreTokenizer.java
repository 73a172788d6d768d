package io.streamingllm.local.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into words before byte-level BPE, with the expressions llama.cpp uses for a
 * {@code tokenizer.ggml.pre} value. Each expression in turn splits every piece left by the previous one into its
 * matches and the text between them, as llama.cpp's {@code unicode_regex_split} does.
 */
final class PreTokenizer {
    /** Llama 3's expression; llama.cpp spells the case-insensitive contractions out, as done here. */
    static final String LLAMA3 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** Qwen2's: as Llama 3's but every digit on its own. */
    static final String QWEN2 = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
            + "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    /** GPT-2's. */
    static final String GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";

    private final String name;
    private final List<Pattern> patterns;

    private PreTokenizer(String name, String... expressions) {
        this.name = name;
        this.patterns = new ArrayList<>();
        for (String e : expressions) {
            patterns.add(Pattern.compile(e, Pattern.UNICODE_CHARACTER_CLASS));
        }
    }

    /**
     * The pre-tokenizer for a {@code tokenizer.ggml.pre} value: the Llama 3 family (llama3, llama-bpe, ...),
     * the Qwen2 family (qwen2, deepseek-r1-qwen, ...), the digit-splitting GPT-2 variant of SmolLM/StarCoder,
     * and GPT-2's expression for {@code gpt-2}, {@code default} and any name not known here.
     */
    static PreTokenizer forName(String pre) {
        return switch (pre) {
            case "llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral", "dbrx", "smaug-bpe" ->
                    new PreTokenizer("llama3", LLAMA3);
            case "qwen2", "deepseek-r1-qwen", "megrez", "stablelm2", "hunyuan" -> new PreTokenizer("qwen2", QWEN2);
            case "smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b" ->
                    new PreTokenizer("smollm", "\\p{N}", GPT2);
            default -> new PreTokenizer("gpt2", GPT2);
        };
    }

    /** The family this pre-tokenizer implements: llama3, qwen2, smollm or gpt2. */
    String name() {
        return name;
    }

    List<String> split(String text) {
        List<int[]> pieces = new ArrayList<>();
        pieces.add(new int[] {0, text.length()});
        for (Pattern pattern : patterns) {
            List<int[]> next = new ArrayList<>();
            Matcher m = pattern.matcher(text);
            for (int[] piece : pieces) {
                int from = piece[0];
                m.region(piece[0], piece[1]);
                while (m.find()) {
                    if (m.end() == m.start()) {
                        continue;
                    }
                    if (m.start() > from) {
                        next.add(new int[] {from, m.start()});
                    }
                    next.add(new int[] {m.start(), m.end()});
                    from = m.end();
                }
                if (from < piece[1]) {
                    next.add(new int[] {from, piece[1]});
                }
            }
            pieces = next;
        }
        List<String> words = new ArrayList<>(pieces.size());
        for (int[] p : pieces) {
            words.add(text.substring(p[0], p[1]));
        }
        return words;
    }
}
