// What every benchmark cycle shares: its context, the backend and Pulumi runner it gets,
// which scenarios it measures, and the checks of the fleet's end state.
import * as fs from "node:fs";
import * as path from "node:path";
import { dpuState, type BenchEmulator } from "./emulator";
import { PulumiRunner } from "./pulumi";
import type { BenchFleet } from "./fleet";
import type { BenchProjects } from "./project";
import type { BenchOptions, Privilege, RawResults } from "./types";

/** What the run around the suite provides (scripts/bench.js). */
export interface BenchEnv {
  workDir: string;
  buildDir: string;
  projects: BenchProjects;
  /** The measured build's image checksum (emulator/images.js of that build). */
  servedSha256: (uri: string) => string;
  /** The measured build's simulated durations (DURATIONS_MS). */
  durationsMs: { dpuReset: number };
  parallel: number;
  log: (line: string) => void;
  /** Called after every completed cycle with what was measured so far. */
  progress: (raw: RawResults) => void;
}

export type RecordFigure = (scenario: string, dpus: number, tool: string, seconds: number, run: number) => void;

/** One cycle's context. */
export interface Cycle {
  opts: BenchOptions;
  env: BenchEnv;
  out: RawResults;
  record: RecordFigure;
  dpus: number;
  fleet: BenchFleet;
  run: number;
  sizeDir: string;
}

export const PASSWORD = "Bench-Mgmt-Pass-1";


/** Bytes of the stack's checkpoint, the resources in it, and the bytes of serialized provider text among them. */
export function checkpointSize(backendDir: string, stack: string): { bytes: number; resources: number; providerTextBytes: number } {
  const file = path.join(backendDir, ".pulumi", "stacks", "smartfleet", `${stack}.json`);
  if (!fs.existsSync(file)) return { bytes: 0, resources: 0, providerTextBytes: 0 };
  const text = fs.readFileSync(file, "utf8");
  const list: Array<{ inputs?: { __provider?: unknown }; outputs?: { __provider?: unknown } }> = JSON.parse(text).checkpoint?.latest?.resources ?? [];
  // The dynamic-provider host stores the serialized provider in every resource's inputs and outputs.
  let providerTextBytes = 0;
  for (const r of list) {
    for (const bag of [r.inputs, r.outputs]) if (typeof bag?.__provider === "string") providerTextBytes += Buffer.byteLength(bag.__provider);
  }
  return { bytes: Buffer.byteLength(text), resources: list.length, providerTextBytes };
}

/** The scenarios measured at `dpus`: the size's own list (`--dpus 500@preview`) or `--scenario`'s. */
export function scenariosAt(opts: BenchOptions, dpus: number): Set<string> {
  return opts.scenariosBySize?.get(dpus) ?? opts.scenarios;
}

/** Whether `scenario` is measured at `dpus`: `plan` brings the no-change `preview` it is compared with. */
export function wantedAt(opts: BenchOptions, dpus: number, scenario: string): boolean {
  const set = scenariosAt(opts, dpus);
  return set.has(scenario) || (scenario === "preview" && set.has("plan"));
}

/** Fails unless every DPU's applied host privilege is `expected` (the end state a change must reach). */
export async function verifyPrivilege(emulator: BenchEmulator, expected: Privilege): Promise<void> {
  const wrong: string[] = [];
  for (const dpu of emulator.endpoints.dpus) {
    const dump = await dpuState(emulator, dpu.serial);
    if (dump.state.bios.hostPrivilege !== expected) wrong.push(`${dpu.serial}: ${dump.state.bios.hostPrivilege}`);
  }
  if (wrong.length > 0) throw new Error(`after the change ${wrong.length} DPUs do not have host privilege ${expected}: ${wrong.slice(0, 5).join(", ")}`);
}

/** Fails unless every DPU runs its DPU OS and both services are Enabled (the end state of `up`). */
export async function verifyUp(emulator: BenchEmulator): Promise<void> {
  const wrong: string[] = [];
  for (const dpu of emulator.endpoints.dpus) {
    const s = (await dpuState(emulator, dpu.serial)).state;
    const services = Object.values(s.services ?? {});
    if (s.dpuOs?.state !== "Enabled" || services.length < 2 || services.some((svc) => svc.state !== "Enabled")) wrong.push(dpu.serial);
  }
  if (wrong.length > 0) throw new Error(`after up ${wrong.length} DPUs are not fully configured: ${wrong.slice(0, 5).join(", ")}`);
}

export function backendFor(env: BenchEnv, sizeDir: string, name: string): string {
  const backendDir = path.join(sizeDir, `backend-${name}`);
  fs.rmSync(backendDir, { recursive: true, force: true });
  fs.mkdirSync(backendDir, { recursive: true });
  return backendDir;
}

export function runnerFor(env: BenchEnv, project: string, backendDir: string, stack: string, skipCheckpoints = true): PulumiRunner {
  return new PulumiRunner({
    cwd: project,
    stack,
    parallel: env.parallel,
    log: env.log,
    env: {
      PULUMI_BACKEND_URL: `file://${backendDir}`,
      PULUMI_CONFIG_PASSPHRASE: "smartfleet-bench",
      PULUMI_CONFIG_PASSPHRASE_FILE: null,
      PULUMI_SKIP_CHECKPOINTS: skipCheckpoints ? "true" : "false",
    },
  });
}

