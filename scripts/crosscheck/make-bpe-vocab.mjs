// Writes small vocabulary-only GGUF files with a byte-level BPE (gpt2) tokenizer, so llama.cpp's BPE tokenizer can
// be cross-checked without a real Llama 3 or Qwen2 model (none is available offline).
// The merges are learnt here, deterministically, from a small built-in corpus.
//
// Usage: node make-bpe-vocab.mjs OUT_DIR   -> OUT_DIR/bpe-llama3.gguf (pre llama-bpe), OUT_DIR/bpe-qwen2.gguf (pre qwen2)
import fs from "node:fs";
import path from "node:path";

const CORPUS = [
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.",
    "One day, she saw a big, red ball. She wanted to play with it, but it was too high.",
    "Lily's mom said: \"Don't worry, we'll find another one!\" They'd walked 1234 steps in 2026.",
    "The quick brown fox jumps over the lazy dog. THE QUICK BROWN FOX. It's 3.14159 and 1,000,000.",
    "def main():\n    print(\"hello world\")\n    return 0\n\n\nclass Thing:\n\tpass\n",
    "naïve café über straße — “quotes” and ‘more’ … emoji 🙂🎉 日本語のテキスト 中文 한국어 Ελληνικά русский",
    "  leading spaces, trailing spaces   \r\n windows lines\r\n and tabs\t\there.",
].join("\n");

const SPECIALS = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>",
    "<|im_start|>", "<|im_end|>"];
const MERGES = 600;

function byteChars() {
    const out = new Array(256);
    let extra = 0;
    for (let b = 0; b < 256; b++) {
        const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
        out[b] = String.fromCharCode(printable ? b : 256 + extra++);
    }
    return out;
}

function learnMerges(corpus, count) {
    const chars = byteChars();
    // Training only: an approximation of the Llama 3 split is enough to get word-like merges.
    const words = corpus.match(/'(?:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu);
    const counts = new Map();
    for (const w of words) {
        const mapped = [...Buffer.from(w, "utf8")].map(b => chars[b]);
        const key = mapped.join("\u0000");
        counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    let seqs = [...counts.entries()].map(([k, n]) => ({symbols: k.split("\u0000"), n}));
    const merges = [];
    for (let m = 0; m < count; m++) {
        const pairs = new Map();
        for (const {symbols, n} of seqs) {
            for (let i = 0; i + 1 < symbols.length; i++) {
                const pair = symbols[i] + " " + symbols[i + 1];
                pairs.set(pair, (pairs.get(pair) ?? 0) + n);
            }
        }
        let best = null, bestN = 0;
        for (const [pair, n] of pairs) {
            if (n > bestN || (n === bestN && pair < best)) {
                best = pair;
                bestN = n;
            }
        }
        if (best === null) break;
        merges.push(best);
        const [l, r] = best.split(" ");
        for (const s of seqs) {
            const out = [];
            for (let i = 0; i < s.symbols.length; i++) {
                if (i + 1 < s.symbols.length && s.symbols[i] === l && s.symbols[i + 1] === r) {
                    out.push(l + r);
                    i++;
                } else out.push(s.symbols[i]);
            }
            s.symbols = out;
        }
    }
    return merges;
}

class GgufWriter {
    constructor() {
        this.parts = [];
        this.count = 0;
    }
    u32(v) { const b = Buffer.alloc(4); b.writeUInt32LE(v); this.parts.push(b); }
    i32(v) { const b = Buffer.alloc(4); b.writeInt32LE(v); this.parts.push(b); }
    u64(v) { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); this.parts.push(b); }
    f32(v) { const b = Buffer.alloc(4); b.writeFloatLE(v); this.parts.push(b); }
    str(s) { const b = Buffer.from(s, "utf8"); this.u64(b.length); this.parts.push(b); }
    kv(key, type, write) { this.str(key); this.u32(type); write(); this.count++; }
    string(key, v) { this.kv(key, 8, () => this.str(v)); }
    uint32(key, v) { this.kv(key, 4, () => this.u32(v)); }
    float32(key, v) { this.kv(key, 6, () => this.f32(v)); }
    bool(key, v) { this.kv(key, 7, () => this.parts.push(Buffer.from([v ? 1 : 0]))); }
    strings(key, a) { this.kv(key, 9, () => { this.u32(8); this.u64(a.length); a.forEach(s => this.str(s)); }); }
    int32s(key, a) { this.kv(key, 9, () => { this.u32(5); this.u64(a.length); a.forEach(v => this.i32(v)); }); }
    bytes() {
        const head = Buffer.alloc(24);
        head.write("GGUF", 0, "latin1");
        head.writeUInt32LE(3, 4);
        head.writeBigUInt64LE(0n, 8); // no tensors: a vocabulary-only file
        head.writeBigUInt64LE(BigInt(this.count), 16);
        const body = Buffer.concat([head, ...this.parts]);
        return Buffer.concat([body, Buffer.alloc((32 - body.length % 32) % 32)]);
    }
}

function writeVocab(file, pre, merges) {
    const chars = byteChars();
    const tokens = [...chars];
    for (const m of merges) {
        const t = m.replace(" ", "");
        if (!tokens.includes(t)) tokens.push(t);
    }
    const types = tokens.map(() => 1);
    for (const s of SPECIALS) {
        tokens.push(s);
        types.push(3);
    }
    const id = t => tokens.indexOf(t);
    const w = new GgufWriter();
    w.string("general.architecture", "llama");
    w.string("general.name", path.basename(file, ".gguf"));
    w.uint32("llama.context_length", 512);
    w.uint32("llama.embedding_length", 64);
    w.uint32("llama.block_count", 1);
    w.uint32("llama.feed_forward_length", 172);
    w.uint32("llama.attention.head_count", 8);
    w.uint32("llama.attention.head_count_kv", 4);
    w.float32("llama.attention.layer_norm_rms_epsilon", 1e-5);
    w.uint32("llama.rope.dimension_count", 8);
    w.uint32("llama.vocab_size", tokens.length);
    w.string("tokenizer.ggml.model", "gpt2");
    w.string("tokenizer.ggml.pre", pre);
    w.strings("tokenizer.ggml.tokens", tokens);
    w.int32s("tokenizer.ggml.token_type", types);
    w.strings("tokenizer.ggml.merges", merges);
    w.uint32("tokenizer.ggml.bos_token_id", id("<|begin_of_text|>"));
    w.uint32("tokenizer.ggml.eos_token_id", id("<|end_of_text|>"));
    w.bool("tokenizer.ggml.add_bos_token", true);
    fs.writeFileSync(file, w.bytes());
}

const out = process.argv[2];
if (!out) {
    console.error("usage: node make-bpe-vocab.mjs OUT_DIR");
    process.exit(2);
}
fs.mkdirSync(out, {recursive: true});
const merges = learnMerges(CORPUS, MERGES);
writeVocab(path.join(out, "bpe-llama3.gguf"), "llama-bpe", merges);
writeVocab(path.join(out, "bpe-qwen2.gguf"), "qwen2", merges);
console.log(`${merges.length} merges -> ${out}/bpe-llama3.gguf, ${out}/bpe-qwen2.gguf`);
