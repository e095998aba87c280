import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { PassThrough } from "node:stream";
import { PRELOAD_WATCH, watchUntilConfigured } from "../../providers/common/engine-watch";
import { isDynamicProviderHost, isProgramRunner, withEngineWatchPreload } from "../../providers/common/engine-watch-preload";
import { alive } from "../support/processes";

const ROOT = path.resolve(__dirname, "..", "..");
/** The compiled preload, as `smartfleet` puts it in NODE_OPTIONS (`npm test` compiles first). */
const PRELOAD = path.join(ROOT, "dist", "providers", "common", "engine-watch-preload.js");
/** Pulumi's Node dynamic-provider host, as the engine's shim starts it. */
const HOST = path.join(ROOT, "node_modules", "@pulumi", "pulumi", "cmd", "dynamic-provider", "index.js");

/**
 * A stand-in engine: starts the real dynamic-provider host with a pipe on its stdin (as the
 * engine does), prints the host's pid once the host printed its gRPC port, then waits.
 * It never calls the host, so no provider code of ours is loaded by Pulumi.
 */
const ENGINE = `
const { spawn } = require("node:child_process");
const host = spawn(process.execPath, [process.argv[1], "127.0.0.1:1"], { stdio: ["pipe", "pipe", "inherit"], env: process.env });
host.stdout.once("data", () => console.log(host.pid));
setInterval(() => undefined, 1000);
`;

const started: ChildProcess[] = [];
const hosts: number[] = [];
afterEach(() => {
  for (const child of started.splice(0)) child.kill("SIGKILL");
  for (const pid of hosts.splice(0)) if (alive(pid)) process.kill(pid, "SIGKILL");
});

/** Starts the stand-in engine with `nodeOptions`; resolves to the engine and its host's pid. */
async function engineWithHost(nodeOptions: string | undefined): Promise<{ engine: ChildProcess; host: number }> {
  const env = { ...process.env, NODE_OPTIONS: nodeOptions ?? "" };
  const engine = spawn(process.execPath, ["-e", ENGINE, HOST], { stdio: ["ignore", "pipe", "inherit"], env });
  started.push(engine);
  const host = await new Promise<number>((resolve, reject) => {
    engine.stdout?.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    engine.once("exit", (code) => reject(new Error(`the stand-in engine exited (${code}) before its host started`)));
  });
  hosts.push(host);
  return { engine, host };
}

/** A process's resident memory (VmRSS), in MiB. */
function residentMiB(pid: number): number {
  const kib = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
  return Number(kib) / 1024;
}

async function goneWithin(pid: number, ms: number): Promise<boolean> {
  for (const until = Date.now() + ms; Date.now() < until; await sleep(100)) if (!alive(pid)) return true;
  return !alive(pid);
}

describe("the engine watch from a dynamic-provider host's first moment", () => {
  it("recognises Pulumi's dynamic-provider host by its script, and nothing else", () => {
    expect(isDynamicProviderHost(HOST)).toBe(true);
    expect(isDynamicProviderHost("/p/node_modules/@pulumi/pulumi/cmd/run/index.js")).toBe(false);
    expect(isDynamicProviderHost(path.join(ROOT, "dist", "cli", "main.js"))).toBe(false);
    expect(isDynamicProviderHost(undefined)).toBe(false);
    expect(isProgramRunner("/p/node_modules/@pulumi/pulumi/cmd/run/index.js")).toBe(true);
    expect(isProgramRunner(HOST)).toBe(false);
    expect(isProgramRunner(undefined)).toBe(false);
  });

  it("adds itself to NODE_OPTIONS once, quoted, and not at all when the compiled file is missing", () => {
    const once = withEngineWatchPreload("--max-old-space-size=4096", PRELOAD);
    expect(once).toBe(`--max-old-space-size=4096 --require ${JSON.stringify(PRELOAD)}`);
    expect(withEngineWatchPreload(once, PRELOAD)).toBe(once);
    expect(withEngineWatchPreload(undefined, PRELOAD)).toBe(`--require ${JSON.stringify(PRELOAD)}`);
    expect(withEngineWatchPreload("--x", path.join(ROOT, "dist", "no-such-preload.js"))).toBe("--x");
  });

  it("ends a host whose engine is killed before its first call; without the preload the host stays", async () => {
    expect(fs.existsSync(PRELOAD), `${PRELOAD} (compiled by npm test's build)`).toBe(true);

    const bare = await engineWithHost(undefined);
    bare.engine.kill("SIGKILL");
    expect(await goneWithin(bare.host, 3_000), "Pulumi's host alone outlives its engine").toBe(false);

    const watched = await engineWithHost(withEngineWatchPreload(undefined, PRELOAD));
    watched.engine.kill("SIGKILL");
    expect(await goneWithin(watched.host, 5_000), "the preloaded watch ends the host").toBe(true);
  }, 30_000);

  it("leaves TypeScript and arborist unloaded in the host: the preloaded host is the smaller by most of their 55 MiB", async () => {
    const bare = await engineWithHost(undefined);
    const preloaded = await engineWithHost(withEngineWatchPreload(undefined, PRELOAD));
    const saved = residentMiB(bare.host) - residentMiB(preloaded.host);
    expect(saved, "MiB of resident memory saved by the preload").toBeGreaterThan(45);
  }, 30_000);

  it("exits when stdin ends before configure, and stands down once the full watch takes over", async () => {
    const quiet = { parentPid: () => 4242, parentOf: () => 1, commandOf: () => "pulumi", intervalMs: 60_000 };
    const early = new PassThrough();
    const exits: number[] = [];
    watchUntilConfigured({ ...quiet, stdin: early, exit: (code) => exits.push(code) });
    early.end();
    await sleep(20);
    expect(exits).toEqual([1]);

    const late = new PassThrough();
    const lateExits: number[] = [];
    watchUntilConfigured({ ...quiet, stdin: late, exit: (code) => lateExits.push(code) });
    // What watchEngine does first (configure ran): the preload's watch stops.
    (globalThis as { [PRELOAD_WATCH]?: () => void })[PRELOAD_WATCH]?.();
    late.end();
    await sleep(20);
    expect(lateExits).toEqual([]);
    expect(late.listenerCount("end")).toBe(0);
  });
});
