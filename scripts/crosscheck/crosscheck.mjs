// Runs llama.cpp (through node-llama-cpp, offline, CPU, one thread) on a GGUF model and writes JSON fixtures:
//   <name>.vocab.json       the tokenizer metadata of the model (typed, see README in the fixture directory)
//   <name>.tokenizer.json   llama.cpp's tokenisation (and detokenisation) of a list of strings
//   <name>.generation.json  per prompt: prompt ids, greedy continuation, top-k next tokens per position
//
// Usage: node crosscheck.mjs --model PATH --out DIR [--name NAME] [--prompts FILE] [--strings FILE]
//        [--generate N] [--positions N] [--top N] [--no-vocab] [--vocab-only]
//   --vocab-only: load only the vocabulary (a GGUF without tensors works) and write the vocab and tokenizer files.
//   --prompts FILE: JSON array of {"name": ..., "text": ...} (BOS is prepended when the model adds one)
//                   or {"name": ..., "ids": [...]} (ids are used exactly as given).
//   --strings FILE: JSON array of strings to tokenise.
import fs from "node:fs";
import path from "node:path";
import {getLlama, readGgufFileInfo, LlamaLogLevel} from "node-llama-cpp";

const DEFAULT_PROMPTS = [
    {name: "once-upon", text: "Once upon a time"},
    {name: "bos-only", ids: null},
    {name: "lily-park", text: "Lily went to the park with her mom."},
    {name: "dog-ball", text: "The little dog wanted to play with the red ball, but"},
    {name: "tom-sad", text: "Tom was sad because his toy was broken. His mom said"},
];

const DEFAULT_STRINGS = [
    "", " ", "  ", "   ", "a", " a", "a ", "Hello world", " Hello world", "Hello  world", "Hello   world!",
    "Once upon a time", "once upon a time, there was a little girl named Lily.",
    "line one\nline two", "\n", "\n\n", "a\n\nb", "tab\there", "\r\n",
    "12345 67890 3.14159", "1,000,000", "2026-11-24",
    "naïve café über", "Ελληνικά", "日本語のテキスト", "🙂", "emoji 🎉🎉 party", "👨‍👩‍👧 family",
    "<s>", "</s>", "<unk>", "a <s> b", "it's don't I'll we've", "UPPER lower MiXeD",
    "punctuation!?.,;:()[]{}", "    indented code();", "x=y+z*2", "ünïcödé ∑ ∞ ≈",
    "DON'T shout, they'RE here", "x=1234567 + 89", "a    b  ", " \n\n  x!!\n", "\t\tdef f():\r\n\t\treturn 1",
    "<|eot_id|>hi<|im_start|>user\n", "<|start_header_id|>assistant<|end_header_id|>\n\nHi!",
    // A long prompt (over 2,000 tokens), to check the merge order holds far into a text.
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park. ".repeat(100)
        + "The end.\n\nTom had a big red ball 🎈 and 3 dogs; they ran   fast!",
];

function parseArgs(argv) {
    const args = {generate: 64, positions: 16, top: 5, vocab: true};
    for (let i = 2; i < argv.length; i++) {
        const a = argv[i];
        const next = () => {
            if (i + 1 >= argv.length) throw new Error(`missing value for ${a}`);
            return argv[++i];
        };
        if (a === "--model") args.model = next();
        else if (a === "--out") args.out = next();
        else if (a === "--name") args.name = next();
        else if (a === "--prompts") args.prompts = JSON.parse(fs.readFileSync(next(), "utf8"));
        else if (a === "--strings") args.strings = JSON.parse(fs.readFileSync(next(), "utf8"));
        else if (a === "--generate") args.generate = Number(next());
        else if (a === "--positions") args.positions = Number(next());
        else if (a === "--top") args.top = Number(next());
        else if (a === "--no-vocab") args.vocab = false;
        else if (a === "--vocab-only") args.vocabOnly = true;
        else throw new Error(`unknown argument ${a}`);
    }
    if (!args.model || !args.out) throw new Error("usage: crosscheck.mjs --model PATH --out DIR [...]");
    args.name ??= path.basename(args.model).replace(/\.gguf$/, "");
    args.prompts ??= DEFAULT_PROMPTS;
    args.strings ??= DEFAULT_STRINGS;
    return args;
}

/** Tokenizer metadata with explicit types, so a reader in another language needs no guessing. */
function vocabFixture(metadata) {
    const out = {};
    const walk = (obj, prefix) => {
        for (const [k, v] of Object.entries(obj)) {
            const key = prefix ? `${prefix}.${k}` : k;
            if (v !== null && typeof v === "object" && !Array.isArray(v)) walk(v, key);
            else if (key.startsWith("tokenizer.")) out[key] = typed(key, v);
        }
    };
    walk(metadata, "");
    return out;
}

function typed(key, v) {
    if (Array.isArray(v)) {
        if (v.every(x => typeof x === "string")) return {type: "string[]", value: v};
        if (key.endsWith("scores")) return {type: "float[]", value: v};
        return {type: "int[]", value: v};
    }
    if (typeof v === "string") return {type: "string", value: v};
    if (typeof v === "boolean") return {type: "bool", value: v};
    return {type: Number.isInteger(v) ? "int" : "float", value: v};
}

function topEntries(map, n) {
    return [...map.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, n);
}

function argmaxLogit(logits) {
    let best = -1, bestValue = -Infinity;
    for (const [id, value] of logits) {
        if (value > bestValue || (value === bestValue && id < best)) {
            best = id;
            bestValue = value;
        }
    }
    return best;
}

function positionRecord(position, inputId, output, top) {
    const probs = output.next.probabilities;
    const logits = output.next.logits;
    return {
        position,
        input: inputId,
        top: topEntries(probs, top).map(([id, p]) => ({id, prob: p, logit: logits.get(id)})),
        maxLogit: Math.max(...logits.values()),
    };
}

const generateNext = {generateNext: {probabilities: true, logits: true}};

async function main() {
    const args = parseArgs(process.argv);
    fs.mkdirSync(args.out, {recursive: true});
    const info = await readGgufFileInfo(args.model, {logWarnings: false});
    const llama = await getLlama({gpu: false, build: "never", skipDownload: true, logLevel: LlamaLogLevel.error});
    const model = await llama.loadModel({modelPath: args.model, gpuLayers: 0, vocabOnly: args.vocabOnly === true});
    const bos = model.tokens.bos;
    const addBos = model.tokens.shouldPrependBosToken;
    const source = {
        tool: "node-llama-cpp 3.22.1 (llama.cpp " + (llama.llamaCppRelease?.release ?? "unknown") + ")",
        model: path.basename(args.model),
        threads: 1,
        gpu: false,
    };

    if (args.vocab) {
        const vocab = {source, metadata: vocabFixture(info.metadata)};
        fs.writeFileSync(path.join(args.out, `${args.name}.vocab.json`), JSON.stringify(vocab, null, 1) + "\n");
    }

    const cases = args.strings.map(text => ({
        text,
        ids: model.tokenize(text, false),
        idsParseSpecial: model.tokenize(text, true),
    })).map(c => ({...c, detokenized: model.detokenize(c.ids, false)}));
    fs.writeFileSync(path.join(args.out, `${args.name}.tokenizer.json`), JSON.stringify({
        source,
        note: "ids: llama_tokenize(text, add_special=false, parse_special=false); idsParseSpecial: parse_special=true;"
            + " no BOS; detokenized: llama_detokenize(ids, remove_special=false, unparse_special=false)",
        addBos, bos, eos: model.tokens.eos,
        cases,
    }, null, 1) + "\n");

    if (args.vocabOnly) {
        await model.dispose();
        await llama.dispose();
        return;
    }
    const context = await model.createContext({contextSize: Math.min(512, model.trainContextSize), threads: 1, batchSize: 512});
    const sequence = context.getSequence();
    const prompts = [];
    for (const p of args.prompts) {
        await sequence.clearHistory();
        const promptIds = p.ids ?? [...(addBos && bos != null ? [bos] : []), ...(p.text ? model.tokenize(p.text, false) : [])];
        const positions = [];
        const generated = [];
        // The first --positions inputs, and at least 8 generation steps for prompts longer than that.
        const recorded = Math.max(args.positions, promptIds.length + 8);
        // Prompt: one batch, every position asks for the full next-token distribution.
        const outputs = await sequence.controlledEvaluate(promptIds.map(id => [id, generateNext]));
        let last = outputs[outputs.length - 1];
        outputs.forEach((o, i) => {
            if (i < recorded) positions.push(positionRecord(i, promptIds[i], o, args.top));
        });
        // Greedy continuation, one token at a time: the argmax of the raw logits (lowest id on ties).
        for (let step = 0; step < args.generate; step++) {
            const next = argmaxLogit(last.next.logits);
            generated.push(next);
            if (step === args.generate - 1) break;
            const [o] = await sequence.controlledEvaluate([[next, generateNext]]);
            const pos = promptIds.length + step;
            if (pos < recorded) positions.push(positionRecord(pos, next, o, args.top));
            last = o;
        }
        prompts.push({
            name: p.name,
            text: p.text ?? null,
            promptIds,
            generated,
            generatedText: model.detokenize(generated, false, promptIds),
            positions,
        });
    }
    fs.writeFileSync(path.join(args.out, `${args.name}.generation.json`), JSON.stringify({
        source,
        settings: {
            generate: args.generate, positions: args.positions, top: args.top,
            sampling: "greedy: argmax of raw logits, lowest id on ties; no repeat penalty",
            positionMeaning: "positions[i] is the distribution of the token after input i (prompt ids, then generated ids);"
                + " recorded for the first max(positions, promptIds.length + 8) inputs",
        },
        prompts,
    }, null, 1) + "\n");
    await context.dispose();
    await model.dispose();
    await llama.dispose();
}

main().catch(e => {
    console.error(e);
    process.exit(1);
});
