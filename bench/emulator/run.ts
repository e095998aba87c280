/**
 * Emulator benchmark: start time and RSS of a 1,000-DPU emulator (a separate process, as
 * `smartfleet emulator start` runs it), then GETs per second and latency percentiles over
 * keep-alive HTTPS on one port and across 100 ports. Writes bench/emulator/results.json.
 *
 *   bench/emulator/run.sh [--seconds N] [--concurrency C]
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { stringify } from "yaml";
import { generateFleet } from "../../cli/commands/generate-fleet";
import type { EndpointsFile } from "../../schemas/generated/endpoints";

const PASSWORD = "Bench-pass-1234";
const RESOURCE = "/redfish/v1/Systems/Host";

interface LoadResult {
  /** Ports the load was spread over. */
  ports: number;
  /** Concurrent requests in flight. */
  concurrency: number;
  /** Seconds measured. */
  seconds: number;
  /** Requests completed. */
  requests: number;
  /** Answers other than 200. */
  errors: number;
  /** Completed GETs per second. */
  getsPerSecond: number;
  /** Latency percentiles in milliseconds. */
  p50Ms: number;
  p99Ms: number;
}

function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return Math.round((kb / 1024) * 10) / 10;
}

function get(agent: https.Agent, ca: string, url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { agent, ca, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end();
  });
}

function send(ca: string, url: string, method: string, body: unknown, auth: string): Promise<{ status: number; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = https.request(url, { method, ca, agent: false, headers: { Authorization: `Basic ${Buffer.from(auth).toString("base64")}`, "Content-Type": "application/json" } }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on("error", reject);
    req.end(payload);
  });
}

/** Claims a port and opens a session; returns the X-Auth-Token. */
async function sessionFor(ca: string, dpu: EndpointsFile["dpus"][number], factoryPassword: string): Promise<string> {
  const acct = `${dpu.url}/redfish/v1/AccountService/Accounts/${dpu.factoryUsername}`;
  const claimed = await send(ca, acct, "PATCH", { Password: PASSWORD }, `${dpu.factoryUsername}:${factoryPassword}`);
  if (claimed.status !== 200) throw new Error(`claiming ${dpu.serial} answered ${claimed.status}`);
  const login = await send(ca, `${dpu.url}/redfish/v1/SessionService/Sessions`, "POST", { UserName: dpu.factoryUsername, Password: PASSWORD }, `${dpu.factoryUsername}:${PASSWORD}`);
  const token = login.headers["x-auth-token"];
  if (login.status !== 201 || typeof token !== "string") throw new Error(`login on ${dpu.serial} answered ${login.status}`);
  return token;
}

async function load(ca: string, targets: Array<{ url: string; token: string }>, concurrency: number, seconds: number): Promise<LoadResult> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: Math.max(1, Math.ceil(concurrency / targets.length)) });
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  // Warm-up: open the keep-alive connections before measuring.
  await Promise.all(targets.map((t) => get(agent, ca, `${t.url}${RESOURCE}`, { "X-Auth-Token": t.token })));
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const target = targets[next++ % targets.length];
      const start = performance.now();
      const status = await get(agent, ca, `${target.url}${RESOURCE}`, { "X-Auth-Token": target.token });
      latencies.push(performance.now() - start);
      if (status !== 200) errors++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const pct = (p: number): number => Math.round(latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] * 100) / 100;
  return {
    ports: targets.length,
    concurrency,
    seconds: Math.round(elapsed * 10) / 10,
    requests: latencies.length,
    errors,
    getsPerSecond: Math.round(latencies.length / elapsed),
    p50Ms: pct(50),
    p99Ms: pct(99),
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string, fallback: number): number => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : fallback;
  };
  const seconds = opt("--seconds", 10);
  const concurrency = opt("--concurrency", 16);
  const cli = process.env.SMARTFLEET_BENCH_CLI;
  if (!cli) throw new Error("SMARTFLEET_BENCH_CLI must name the compiled cli/main.js (bench/emulator/run.sh sets it)");
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "sf-bench-"));
  const inventory = path.join(work, "fleet.yaml");
  fs.writeFileSync(inventory, stringify(generateFleet({ hosts: 500, nicsPerHost: 2, name: "bench" })));
  const state = path.join(work, "state");

  const startOnce = async (): Promise<{ pid: number; ms: number; stop: () => Promise<void> }> => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [cli, "emulator", "start", "--inventory", inventory, "--state", state, "--time-scale", "0"], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    while (!/admin URL/.test(out)) {
      if (child.exitCode !== null) throw new Error(`emulator exited: ${out}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const ms = Math.round(performance.now() - t0);
    return {
      pid: child.pid ?? 0,
      ms,
      stop: () =>
        new Promise<void>((resolve) => {
          child.once("exit", () => resolve());
          child.kill("SIGTERM");
        }),
    };
  };

  const cold = await startOnce(); // issues 1,000 certificates and creates the database
  await cold.stop();
  const warm = await startOnce(); // certificates cached, state loaded from SQLite
  try {
    const rssIdle = rssMiB(warm.pid);
    const endpoints = JSON.parse(fs.readFileSync(path.join(state, "endpoints.json"), "utf8")) as EndpointsFile;
    const ca = fs.readFileSync(endpoints.caFile, "utf8");
    const factory = (vendor: string | undefined): string => (vendor === "nvidia" ? "0penBmc" : "Pen$ando1");
    const hundred = endpoints.dpus.slice(0, 100);
    const tokens = await Promise.all(hundred.map((d) => sessionFor(ca, d, factory(d.vendor))));
    const targets = hundred.map((d, i) => ({ url: d.url, token: tokens[i] }));
    const onePort = await load(ca, targets.slice(0, 1), concurrency, seconds);
    const hundredPorts = await load(ca, targets, Math.max(concurrency, 100), seconds);
    const results = {
      date: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? "unknown", node: process.version },
      resource: RESOURCE,
      fleet: { dpus: endpoints.dpus.length },
      startMs: { firstStartWithCertificateIssue: cold.ms, restartWithCachedState: warm.ms },
      rssMiB: { idleAfterStart: rssIdle, afterLoad: rssMiB(warm.pid) },
      onePort,
      hundredPorts,
    };
    const file = path.resolve(__dirname.includes(`${path.sep}bench${path.sep}`) ? path.join(findRoot(__dirname), "bench/emulator/results.json") : "results.json");
    fs.writeFileSync(file, JSON.stringify(results, null, 2) + "\n");
    console.log(JSON.stringify(results, null, 2));
    console.log(`wrote ${file}`);
  } finally {
    await warm.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

function findRoot(dir: string): string {
  while (!fs.existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("no package.json above the benchmark");
    dir = parent;
  }
  return dir;
}

main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
