#!/usr/bin/env node
// llamacpp_speed.mjs - prompt and decode speed of llama.cpp (node-llama-cpp's prebuilt CPU binaries)
// on exactly the work `edgellm bench` does, for `edgellm bench --compare llamacpp`.
//
//   node llamacpp_speed.mjs --model M.gguf --prompt ID,ID,... --n-gen 128 --threads 2 [--reps 3]
//                           [--start-token ID] [--batch 512]
//
// Per repetition (after one untimed warm-up): clear the context, evaluate the prompt ids verbatim and
// pick the argmax of the last logits (the prompt phase, also the time to first token), then
// --n-gen single-token evaluations, each followed by an argmax (the decode phase). With an empty
// --prompt the decode phase starts from --start-token in an empty context (like llama-bench tg).
// Prints one JSON line:
//   {"prompt_tokens_per_s": [per rep], "decode_tokens_per_s": [per rep], "token_ms": [last rep],
//    "other_cpu_share": max over reps (0..1 of all CPUs used by other processes, from /proc/stat)}
// Must sit beside node_modules (ES modules resolve packages from the script's own folder); edgellm
// copies it into the peer directory before running it.

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import process from "node:process";
import {parseArgs} from "node:util";

process.env.NODE_LLAMA_CPP_SKIP_DOWNLOAD ??= "true";
const {getLlama, LlamaLogLevel} = await import("node-llama-cpp");

const {values: opt} = parseArgs({
    options: {
        model: {type: "string"},
        prompt: {type: "string", default: ""},
        "n-gen": {type: "string", default: "128"},
        threads: {type: "string", default: "1"},
        reps: {type: "string", default: "3"},
        "start-token": {type: "string", default: "1"},
        batch: {type: "string", default: "512"}
    },
    strict: true
});

function intArg(name, min) {
    const v = Number(opt[name]);
    if (!Number.isInteger(v) || v < min) {
        console.error(`llamacpp_speed.mjs: --${name} must be an integer >= ${min}, got "${opt[name]}"`);
        process.exit(2);
    }
    return v;
}

if (opt.model == null) {
    console.error("usage: node llamacpp_speed.mjs --model M.gguf --prompt ID,... --n-gen N --threads T [--reps R]");
    process.exit(2);
}
const nGen = intArg("n-gen", 0);
const threads = intArg("threads", 1);
const reps = intArg("reps", 1);
const startToken = intArg("start-token", 0);
const batch = intArg("batch", 1);
const prompt = opt.prompt.trim() === "" ? [] : opt.prompt.split(",").map((s) => Number(s.trim()));
if (prompt.some((id) => !Number.isInteger(id) || id < 0)) {
    console.error("llamacpp_speed.mjs: --prompt must be comma-separated token ids");
    process.exit(2);
}
if (prompt.length === 0 && nGen === 0) {
    console.error("llamacpp_speed.mjs: nothing to measure (empty prompt and --n-gen 0)");
    process.exit(2);
}

// Busy ticks and all ticks of the aggregate "cpu" line; guest time is already inside user.
function procStat() {
    const f = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
    return {busy: user + nice + system + irq + softirq + (steal ?? 0), idle: idle + (iowait ?? 0)};
}
const TICKS_PER_S = 100;  // USER_HZ on Linux
function otherShare(before, after, ownCpuMicros) {
    const total = (after.busy + after.idle) - (before.busy + before.idle);
    if (total <= 0) return 0;
    const other = (after.busy - before.busy) - ownCpuMicros * 1e-6 * TICKS_PER_S;
    return Math.min(1, Math.max(0, other / total));
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
const model = await llama.loadModel({modelPath: path.resolve(opt.model), gpuLayers: 0});
const context = await model.createContext({
    contextSize: prompt.length + nGen + 2,
    batchSize: Math.max(1, Math.min(batch, prompt.length || 1)),
    threads: {ideal: threads, min: threads},
    flashAttention: false,
    sequences: 1
});
const sequence = context.getSequence();
// Temperature 0 picks the argmax; nothing else in the chain runs.
const step = {generateNext: {token: true, options: {temperature: 0}}};

async function once() {
    await sequence.clearHistory();
    const t0 = process.hrtime.bigint();
    let tok = startToken;
    let promptS = 0;
    if (prompt.length > 0) {
        const out = await sequence.controlledEvaluate([...prompt.slice(0, -1), [prompt.at(-1), step]]);
        tok = out.at(-1)?.next?.token;
        if (tok == null) throw new Error("the prompt evaluation produced no token");
        promptS = Number(process.hrtime.bigint() - t0) * 1e-9;
    }
    const tokenMs = [];
    const t1 = process.hrtime.bigint();
    for (let i = 0; i < nGen; i++) {
        const s = process.hrtime.bigint();
        const out = await sequence.controlledEvaluate([[tok, step]]);
        tok = out.at(-1)?.next?.token;
        if (tok == null) throw new Error(`decode step ${i} produced no token`);
        tokenMs.push(Number(process.hrtime.bigint() - s) * 1e-6);
    }
    const decodeS = Number(process.hrtime.bigint() - t1) * 1e-9;
    return {promptS, decodeS, tokenMs};
}

await once();  // warm-up: page in the weights, settle the thread pool
const result = {prompt_tokens_per_s: [], decode_tokens_per_s: [], token_ms: [], other_cpu_share: 0,
                cpus: os.cpus().length};
for (let r = 0; r < reps; r++) {
    const cpu0 = process.cpuUsage();
    const st0 = procStat();
    const {promptS, decodeS, tokenMs} = await once();
    const cpu = process.cpuUsage(cpu0);
    result.other_cpu_share = Math.max(result.other_cpu_share, otherShare(st0, procStat(), cpu.user + cpu.system));
    if (prompt.length > 0) result.prompt_tokens_per_s.push(prompt.length / promptS);
    if (nGen > 0) result.decode_tokens_per_s.push(nGen / decodeS);
    result.token_ms = tokenMs;
}
await context.dispose();
await model.dispose();
await llama.dispose();
console.log(JSON.stringify(result));
