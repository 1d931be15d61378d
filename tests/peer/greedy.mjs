#!/usr/bin/env node
// greedy.mjs - greedy generation with llama.cpp (node-llama-cpp's prebuilt CPU binaries), printing
// the generated token ids and the top raw logits at every step, for edgellm's cross-check test.
//
//   node greedy.mjs --model A.gguf [--model B.gguf ...] --prompt 1,450,7483 [--n 32] [--top-k 5]
//                   [--threads 1]
//
// For each model, one JSON line: {"model": path, "tokens": [n ids],
//   "steps": [{"top": [[id, logit], ...]}, ...]} where steps[i] holds the logits that chose tokens[i]
// (step 0: after the prompt). The prompt is taken as token ids verbatim, so no tokenizer is involved.
// Must sit beside node_modules (ES modules resolve packages from the script's own folder); the
// edgellm test copies it into the peer directory before running it.

import path from "node:path";
import process from "node:process";
import {parseArgs} from "node:util";

process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD ??= "true";
const {getLlama, LlamaLogLevel} = await import("node-llama-cpp");

const {values: opt} = parseArgs({
    options: {
        model: {type: "string", multiple: true},
        prompt: {type: "string"},
        n: {type: "string", default: "32"},
        "top-k": {type: "string", default: "5"},
        threads: {type: "string", default: "1"}
    },
    strict: true
});

function positiveInt(name) {
    const v = Number(opt[name]);
    if (!Number.isInteger(v) || v < 1) {
        console.error(`greedy.mjs: --${name} must be a positive integer, got "${opt[name]}"`);
        process.exit(2);
    }
    return v;
}

if (opt.model == null || opt.prompt == null) {
    console.error("usage: node greedy.mjs --model M.gguf [--model ...] --prompt ID,ID,... [--n N] [--top-k K] [--threads T]");
    process.exit(2);
}
const nGen = positiveInt("n");
const topK = positiveInt("top-k");
const threads = positiveInt("threads");
const prompt = opt.prompt.split(",").map((s) => Number(s.trim()));
if (prompt.length === 0 || prompt.some((id) => !Number.isInteger(id) || id < 0)) {
    console.error(`greedy.mjs: bad --prompt "${opt.prompt}"`);
    process.exit(2);
}

const llama = await getLlama({
    gpu: false,
    build: "never",
    usePrebuiltBinaries: true,
    skipDownload: true,
    maxThreads: 0,
    logLevel: LlamaLogLevel.error,
    progressLogs: false
});

// Temperature 0 is argmax over the raw logits; nothing else in the chain touches them.
const step = {generateNext: {token: true, options: {temperature: 0}, logits: {filter: {includeTop: topK}}}};

async function greedy(modelPath) {
    const model = await llama.loadModel({modelPath, gpuLayers: 0});
    const context = await model.createContext({
        contextSize: prompt.length + nGen + 1,
        batchSize: prompt.length,
        threads: {ideal: threads, min: threads},
        flashAttention: false,
        sequences: 1
    });
    const sequence = context.getSequence();
    const tokens = [];
    const steps = [];
    let input = [...prompt.slice(0, -1), [prompt.at(-1), step]];
    for (let i = 0; i < nGen; i++) {
        const next = (await sequence.controlledEvaluate(input)).at(-1)?.next;
        if (next?.token == null || next.logits == null)
            throw new Error(`${modelPath}: step ${i} produced no token`);
        steps.push({top: [...next.logits.entries()].slice(0, topK)});
        tokens.push(next.token);
        input = [[next.token, step]];
    }
    await context.dispose();
    await model.dispose();
    return {model: modelPath, tokens, steps};
}

for (const m of opt.model)
    console.log(JSON.stringify(await greedy(path.resolve(m))));
await llama.dispose();
