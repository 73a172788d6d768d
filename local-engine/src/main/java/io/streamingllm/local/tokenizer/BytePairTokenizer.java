package io.streamingllm.local.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Byte-level BPE ({@code tokenizer.ggml.model = gpt2}), as llama.cpp's BPE tokenizer: the text is split into words
 * by the pre-tokenizer {@code tokenizer.ggml.pre} names, each word's UTF-8 bytes are mapped to GPT-2's byte
 * characters, and adjacent pairs are merged lowest merge rank first ({@code tokenizer.ggml.merges}). With the Llama 3
 * pre-tokenizer a word that is itself a token is taken whole ({@code ignore_merges}).
 */
final class BytePairTokenizer extends VocabularyTokenizer {
    private static final int WORD_CACHE_LIMIT = 65_536;

    private final Map<String, Integer> ranks;
    private final PreTokenizer preTokenizer;
    private final boolean ignoreMerges;
    private final byte[][] pieces;
    private final Map<String, int[]> wordCache = new ConcurrentHashMap<>();

    BytePairTokenizer(Vocabulary vocab, String[] merges, String pre) {
        super(vocab);
        if (merges == null) {
            throw new TokenizerException("GGUF metadata has no tokenizer.ggml.merges, which a gpt2 tokenizer needs");
        }
        ranks = new HashMap<>(merges.length * 2);
        for (int rank = 0; rank < merges.length; rank++) {
            String merge = merges[rank];
            int space = merge.indexOf(' ', 1);
            if (space < 0) {
                throw new TokenizerException("tokenizer.ggml.merges[" + rank + "] is '" + merge + "', not 'left right'");
            }
            ranks.putIfAbsent(merge, rank);
        }
        preTokenizer = PreTokenizer.forName(pre);
        ignoreMerges = preTokenizer.name().equals("llama3");
        pieces = new byte[vocab.size()][];
        for (int id = 0; id < vocab.size(); id++) {
            pieces[id] = piece(id);
        }
    }

    private byte[] piece(int id) {
        String text = vocab.texts[id];
        return switch (vocab.types[id]) {
            case Vocabulary.TYPE_CONTROL, Vocabulary.TYPE_UNUSED, Vocabulary.TYPE_UNKNOWN -> new byte[0];
            case Vocabulary.TYPE_USER_DEFINED -> text.getBytes(StandardCharsets.UTF_8);
            default -> {
                byte[] bytes = ByteLevel.decode(text);
                yield bytes != null ? bytes : text.getBytes(StandardCharsets.UTF_8);
            }
        };
    }

    @Override
    public byte[] decodeBytes(int id) {
        checkId(id);
        return pieces[id].clone();
    }

    @Override
    public boolean addsSpacePrefix() {
        return false;
    }

    @Override
    void encodeText(String text, boolean afterSpecial, IntList out) {
        for (String word : preTokenizer.split(text)) {
            int[] ids = wordCache.get(word);
            if (ids == null) {
                ids = encodeWord(ByteLevel.encode(word));
                if (wordCache.size() >= WORD_CACHE_LIMIT) {
                    wordCache.clear();
                }
                wordCache.put(word, ids);
            }
            out.addAll(ids);
        }
    }

    private record Bigram(int left, int right, int rank, int size) {
    }

    private int[] encodeWord(String word) {
        IntList out = new IntList(word.length());
        int whole = vocab.id(word);
        if (ignoreMerges && whole >= 0) {
            out.add(whole);
            return out.toArray();
        }
        int n = word.length(); // one mapped character per byte
        int[] length = new int[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            length[i] = 1;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>(Math.max(1, n),
                (a, b) -> a.rank != b.rank ? Integer.compare(a.rank, b.rank) : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) {
            addBigram(word, length, i - 1, i, queue);
        }
        while (!queue.isEmpty()) {
            Bigram bigram = queue.poll();
            int left = bigram.left;
            int right = bigram.right;
            if (length[left] == 0 || length[right] == 0 || length[left] + length[right] != bigram.size) {
                continue; // outdated: one side changed since the pair was queued
            }
            length[left] += length[right];
            length[right] = 0;
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            if (prev[left] >= 0) {
                addBigram(word, length, prev[left], left, queue);
            }
            if (next[left] >= 0) {
                addBigram(word, length, left, next[left], queue);
            }
        }
        for (int i = 0; i != -1 && n > 0; i = next[i]) {
            String symbol = word.substring(i, i + length[i]);
            int id = vocab.id(symbol);
            if (id >= 0) {
                out.add(id);
            } else {
                for (int c = 0; c < symbol.length(); c++) {
                    int single = vocab.id(symbol.substring(c, c + 1));
                    if (single >= 0) {
                        out.add(single);
                    }
                }
            }
        }
        return out.toArray();
    }

    private void addBigram(String word, int[] length, int left, int right, PriorityQueue<Bigram> queue) {
        String key = word.substring(left, left + length[left]) + " " + word.substring(right, right + length[right]);
        Integer rank = ranks.get(key);
        if (rank != null) {
            queue.add(new Bigram(left, right, rank, length[left] + length[right]));
        }
    }
}
