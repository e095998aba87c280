#!/usr/bin/env node
// Benchmarks smartfleet with the real Pulumi CLI against the emulated fleet, beside the
// floor (same program and graph, do-nothing provider), the critical path of a timed
// fleet-wide change and the Ansible peer. See bench/README.md for how to read results.
//
//   npm run bench -- [--dpus N[@S+S...][,N...]] [--scenario S[,S...]] [--runs R] [--tools T[,T...]]
//                    [--time-scale X] [--parallel P] [--checkpoints] [--trace-requests] [--cpu-profile]
//                    [--order run|size] [--deadline HH:MM] [--ansible-max-dpus N] [--ansible-runs R] [--commit REF] [--out DIR] [--work DIR]
//
// Runs inside scripts/with-toolchain.sh (Node >= 22 and pulumi on PATH). Plain
// JavaScript running the compiled dist/bench/lib/: it exports the commit it measures and
// compiles it into bench/.work/.
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
// The benchmark's own logic is TypeScript (bench/lib/*.ts), compiled with the project into
// dist/bench/lib/ (`npm run build`; npm's prepare and `npm test` build too).
const lib = path.join(root, "dist", "bench", "lib");
if (!fs.existsSync(path.join(lib, "suite.js"))) {
  console.error(`bench: ${path.relative(root, lib)}/suite.js is missing: run \`npm run build\` first`);
  process.exit(2);
}
const { exportCommit, build, prepareProjects } = require(path.join(lib, "project"));
const { runSuite, SCENARIOS } = require(path.join(lib, "suite"));
const { ensureAnsible } = require(path.join(lib, "ansible"));
const { buildResults } = require(path.join(lib, "results"));
const { renderChart } = require(path.join(lib, "chart"));
const { renderSummary } = require(path.join(lib, "summary"));

const TOOLS = ["smartfleet", "smartfleet-8-shards", "smartfleet-8-shards-postgres", "floor", "floor-8-shards", "ansible"];
// The sharded runs are asked for by name: they double a run's length and need PostgreSQL.
const DEFAULT_TOOLS = ["smartfleet", "floor", "ansible"];
const USAGE = `usage: npm run bench -- [--dpus N[@S+S...][,N...]] [--scenario S[,S...]] [--runs R] [--tools T[,T...]]
                     [--time-scale X] [--parallel P] [--checkpoints] [--trace-requests] [--cpu-profile]
                     [--order run|size] [--deadline HH:MM] [--ansible-max-dpus N] [--ansible-runs R] [--out DIR] [--work DIR]
  --dpus              fleet sizes, even numbers (default 10); N@s1+s2 measures only those scenarios at N
  --scenario          ${SCENARIOS.join(", ")} or all (default all); up and destroy always run, the others only when asked
                      (plan brings the no-change preview it is compared with; change-rolling runs on a fleet of its own)
  --runs              repetitions of every figure (default 3)
  --tools             ${TOOLS.join(", ")} (default ${DEFAULT_TOOLS.join(", ")})
                      (the 8-shards tools run \`smartfleet up|preview|destroy --concurrency C\` (C: one per core) on the fleet in 8 racks, shards by rack;
                      -postgres with Pulumi's state and the rollout leases in a PostgreSQL of \`smartfleet db start\`;
                      floor-8-shards: the same sharded commands with the floor's do-nothing providers)
  --time-scale        emulator time scale of the change-timed and change-rolling scenarios (default 0.2: a DPU reboot takes 18 s)
  --parallel          pulumi --parallel (default 32)
  --checkpoints       also run up once per size with checkpoints on, to show what they cost
  --trace-requests    log every management request smartfleet makes and break them down per scenario
  --cpu-profile       run the program and provider processes under node --cpu-prof and summarise where their time went
                      (slows them down: for finding causes, not for figures)
  --order             run (default: every size's first run, then the rest size by size) or size (all runs of a size, then the next)
  --deadline          HH:MM after which no new run starts (results so far are kept; the notes say what was skipped)
  --ansible-max-dpus  largest fleet the Ansible peer runs on (default 500)
  --ansible-runs      runs in which the Ansible peer runs (default: every run)
  --commit            the commit to build and measure (default HEAD; never the working tree)
  --out               results folder (default bench/results)
  --work              working folder for the build, projects, fleets and state, inside the clone (default bench/.work/bench;
                      it is emptied and rebuilt: two runs at once on one machine need one each)`;

function list(value, flag) {
  if (value === undefined) throw new Error(`${flag} needs a value`);
  return value.split(",").map((s) => s.trim()).filter(Boolean);
}

function parseArgs(argv) {
  const string = { type: "string" };
  const flag = { type: "boolean", default: false };
  // Strict: an unknown option, or one without its value (also `--out --runs 2`), throws naming it.
  const { values: v } = require("node:util").parseArgs({
    args: argv,
    options: {
      dpus: string, scenario: string, runs: string, tools: string, "time-scale": string, parallel: string,
      checkpoints: flag, "trace-requests": flag, "cpu-profile": flag, order: string, commit: string, deadline: string,
      "ansible-max-dpus": string, "ansible-runs": string, out: string, work: string, help: { type: "boolean", short: "h" },
    },
  });
  if (v.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const num = (name, fallback) => {
    if (v[name] === undefined) return fallback;
    const n = Number(v[name]);
    if (v[name].trim() === "" || !Number.isFinite(n)) throw new Error(`--${name} takes a number, got '${v[name]}'`);
    return n;
  };
  const sizeScenarios = new Map();
  const opts = { dpus: [10], scenarios: new Set(SCENARIOS), runs: num("runs", 3), tools: new Set(DEFAULT_TOOLS), timeScale: num("time-scale", 0.2), parallel: num("parallel", 32), checkpoints: v.checkpoints, traceRequests: v["trace-requests"], cpuProfile: v["cpu-profile"], order: v.order ?? "run", commit: v.commit ?? "HEAD", ansibleMaxDpus: num("ansible-max-dpus", 500), out: path.resolve(v.out ?? path.join(root, "bench", "results")), work: path.resolve(v.work ?? path.join(root, "bench", ".work", "bench")) };
  if (v["ansible-runs"] !== undefined) opts.ansibleRuns = num("ansible-runs");
  if (v.deadline !== undefined) opts.deadline = deadlineAt(v.deadline);
  if (v.dpus !== undefined) {
    // "500@preview+refresh": at that size only those scenarios (besides up and destroy).
    opts.dpus = [];
    for (const item of list(v.dpus, "--dpus")) {
      const [size, only] = item.split("@");
      opts.dpus.push(Number(size));
      if (only !== undefined) sizeScenarios.set(Number(size), new Set(["up", ...only.split("+").filter(Boolean), "destroy"]));
    }
  }
  if (v.scenario !== undefined) {
    const s = list(v.scenario, "--scenario");
    opts.scenarios = new Set(s.includes("all") ? SCENARIOS : ["up", ...s, "destroy"]);
  }
  if (v.tools !== undefined) opts.tools = new Set(list(v.tools, "--tools"));
  for (const n of opts.dpus) if (!Number.isInteger(n) || n < 2 || n % 2 !== 0) throw new Error(`--dpus takes even numbers >= 2, got '${n}'`);
  opts.scenariosBySize = sizeScenarios;
  for (const set of [opts.scenarios, ...sizeScenarios.values()]) {
    for (const s of set) if (!SCENARIOS.includes(s)) throw new Error(`unknown scenario '${s}' (one of ${SCENARIOS.join(", ")})`);
  }
  for (const t of opts.tools) if (!TOOLS.includes(t)) throw new Error(`unknown tool '${t}' (one of ${TOOLS.join(", ")})`);
  // The build finds its packages in the clone's node_modules by walking up from itself.
  if (!opts.work.startsWith(root + path.sep)) throw new Error(`--work must be a folder inside ${root} (the build resolves node_modules from there), got '${opts.work}'`);
  if (!["run", "size"].includes(opts.order)) throw new Error(`--order takes run or size, got '${opts.order}'`);
  if (!Number.isInteger(opts.runs) || opts.runs < 1) throw new Error("--runs takes a positive integer");
  if (!(opts.timeScale > 0)) throw new Error("--time-scale must be above 0 (the timed change measures simulated durations)");
  if (!Number.isInteger(opts.parallel) || opts.parallel < 1) throw new Error("--parallel takes a positive integer");
  return opts;
}

/** Today's HH:MM (local time) as a Date; no new run starts after it. */
function deadlineAt(value) {
  const match = /^(\d{1,2}):(\d{2})$/.exec(value ?? "");
  if (!match) throw new Error(`--deadline takes HH:MM, got '${value ?? ""}'`);
  const at = new Date();
  at.setHours(Number(match[1]), Number(match[2]), 0, 0);
  return at;
}

function versionOf(cmd, args) {
  const res = spawnSync(cmd, args, { encoding: "utf8" });
  return res.status === 0 ? res.stdout.trim().split("\n")[0] : null;
}

const log = (line) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`bench: ${err.message}\n${USAGE}`);
    return 2;
  }
  const workDir = opts.work;
  const buildDir = path.join(workDir, "build");
  const startedAt = new Date();
  const notes = [];
  const versions = {
    node: process.version,
    pulumiCli: versionOf("pulumi", ["version"]),
    pulumiSdk: require(path.join(root, "node_modules", "@pulumi", "pulumi", "package.json")).version,
    smartfleet: null,
  };
  if (opts.tools.has("ansible")) {
    Object.assign(versions, ensureAnsible(log));
    log(`Ansible peer: ansible-core ${versions.ansibleCore}, community.general ${versions.communityGeneral} (Debian ansible ${versions.debianAnsible})`);
  }
  // The product is built from the commit (HEAD unless --commit), never from the working tree.
  const commit = versionOf("git", ["-C", root, "rev-parse", opts.commit]);
  if (!commit) throw new Error(`git cannot resolve '${opts.commit}'`);
  versions.smartfleet = commit.slice(0, 12);
  const sourceDir = exportCommit(root, commit, path.join(workDir, "src"));
  log(`building smartfleet ${versions.smartfleet} into ${path.relative(root, buildDir)}`);
  build(sourceDir, buildDir, log);
  const projects = prepareProjects(sourceDir, buildDir, workDir);
  // Parsed stacks and inventories are cached by content (schemas/parse-cache.ts): every run
  // starts with none, whatever ran on this machine before, and the tools share what it fills.
  process.env.SMARTFLEET_CACHE_DIR = path.join(workDir, "cache");
  fs.rmSync(process.env.SMARTFLEET_CACHE_DIR, { recursive: true, force: true });
  const { servedSha256 } = require(path.join(buildDir, "emulator", "images.js"));
  // emulator/simulation.js, or emulator/simulation/index.js since the simulation split by domain.
  const { DURATIONS_MS } = require(path.join(buildDir, "emulator", "simulation"));
  const env = { workDir, buildDir, projects, servedSha256, durationsMs: DURATIONS_MS, parallel: opts.parallel, log };
  for (const dpus of opts.dpus) {
    if (dpus > opts.ansibleMaxDpus && opts.tools.has("ansible")) notes.push(`The Ansible peer did not run at ${dpus} DPUs (--ansible-max-dpus ${opts.ansibleMaxDpus}).`);
  }
  const loadAtStart = os.loadavg().map((v) => Math.round(v * 100) / 100);
  const write = (raw, final) => {
    raw.loadAtStart = loadAtStart;
    const results = buildResults({ raw, opts, versions, startedAt, finishedAt: new Date(), scenarios: SCENARIOS, notes: [...notes, ...raw.notes] });
    if (!final) results.notes.push("Partial: written after a completed cycle; the run was still going.");
    fs.mkdirSync(opts.out, { recursive: true });
    const text = JSON.stringify(results, null, 2) + "\n";
    const dated = path.join(opts.out, `${results.date.slice(0, 10)}.json`);
    fs.writeFileSync(dated, text);
    fs.writeFileSync(path.join(opts.out, "latest.json"), text);
    const chart = renderChart(results);
    fs.writeFileSync(path.join(opts.out, `${results.date.slice(0, 10)}.svg`), chart);
    fs.writeFileSync(path.join(opts.out, "latest.svg"), chart);
    const summary = renderSummary(results);
    fs.writeFileSync(path.join(opts.out, `${results.date.slice(0, 10)}.md`), summary);
    fs.writeFileSync(path.join(opts.out, "latest.md"), summary);
    return { results, dated };
  };
  // Results are rewritten after every completed cycle, so an interrupted run keeps what it measured.
  env.progress = (raw) => write(raw, false);
  const raw = await runSuite(opts, env);
  const { results, dated } = write(raw, true);
  log(`wrote ${path.relative(root, dated)} (and .svg, .md), latest.json, latest.svg and latest.md in ${path.relative(root, opts.out) || opts.out}`);
  for (const t of results.targets) log(`target ${t.met ? "met   " : "MISSED"} ${t.target} at ${t.dpus} DPUs: ${t.reached} (limit ${t.limit})`);
  for (const f of results.failures) log(`failed: ${f.tool} run ${f.run + 1} at ${f.dpus} DPUs (see failures in the results)`);
  return results.failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (err) => {
    console.error(`bench: ${err.stack ?? err.message}`);
    process.exitCode = 1;
  },
);
