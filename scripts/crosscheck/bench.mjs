// llama.cpp side of LocalBench: prefill and decode tokens/s on a GGUF, CPU, N threads, dense context.
// Usage: node bench.mjs --model X.gguf [--threads 1] [--prefill 32] [--decode 16] [--runs 3]
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const args = Object.fromEntries(process.argv.slice(2).reduce((a, v, i, all) => (i % 2 === 0 ? a.concat([[v.replace(/^--/, ""), all[i + 1]]]) : a), []));
const threads = Number(args.threads ?? 1), prefill = Number(args.prefill ?? 32), decode = Number(args.decode ?? 16), runs = Number(args.runs ?? 3);
const llama = await getLlama({gpu: false, build: "never", skipDownload: true, logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath: args.model, gpuLayers: 0});
let bestPrefill = 0, bestDecode = 0;
for (let run = 0; run <= runs; run++) {
    const context = await model.createContext({contextSize: prefill + decode + 16, threads, batchSize: 512});
    const seq = context.getSequence();
    // the same kind of prompt as LocalBench: BOS then pseudo-random ids
    let seed = 1;
    const prompt = [1];
    while (prompt.length < prefill) {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        prompt.push(3 + (seed % 200));
    }
    const t0 = performance.now();
    const out = await seq.controlledEvaluate(prompt.map((id, i) => i === prompt.length - 1 ? [id, {generateNext: {token: true}}] : id));
    const t1 = performance.now();
    let next = out[out.length - 1].next.token;
    for (let i = 0; i < decode; i++) {
        const [o] = await seq.controlledEvaluate([[next, {generateNext: {token: true}}]]);
        next = o.next.token;
    }
    const t2 = performance.now();
    if (run > 0) {
        bestPrefill = Math.max(bestPrefill, prefill / ((t1 - t0) / 1000));
        bestDecode = Math.max(bestDecode, decode / ((t2 - t1) / 1000));
    }
    await context.dispose();
}
console.log(JSON.stringify({model: args.model, threads, prefill, decode, prefillTps: +bestPrefill.toFixed(1), decodeTps: +bestDecode.toFixed(1)}));
await model.dispose();
await llama.dispose();
