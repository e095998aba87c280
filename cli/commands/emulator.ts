/**
 * `smartfleet emulator start|stop|status`: runs the emulated fleet in the foreground
 * (or detached with --detach), stops it, or reports on it. The running process records
 * itself in `DIR/emulator.json` ({ pid, adminUrl }).
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { EndpointsFile } from "../../schemas/generated/endpoints";
import { defineCommand, parseCommand, subCommand, type Parsed } from "../args";

/** One line for `smartfleet help`. */
export const summary = "run the emulated DPU fleet: start | stop | status";

const DEFAULT_STATE = ".smartfleet/emulator";

const STATE = { type: "string", valueName: "DIR", default: DEFAULT_STATE, description: "state directory of the emulator" } as const;

const SPECS = {
  start: defineCommand({
    name: "smartfleet emulator start",
    summary: "run the emulated fleet of an inventory, in the foreground or detached",
    options: {
      inventory: { type: "string", valueName: "FILE", required: true, description: "the fleet inventory to emulate" },
      state: STATE,
      "time-scale": { type: "number", valueName: "X", min: 0, default: 1, description: "simulated durations times X; 0 makes them instant" },
      seed: { type: "number", min: 0, default: 1, description: "seed of the simulation" },
      "admin-port": { type: "number", valueName: "P", min: 0, default: 0, description: "port of the admin API; 0 takes any free port" },
      detach: { type: "boolean", description: "run in the background; logs go to DIR/emulator.log" },
    },
  }),
  stop: defineCommand({ name: "smartfleet emulator stop", summary: "stop the emulator running with a state directory", options: { state: STATE } }),
  status: defineCommand({ name: "smartfleet emulator status", summary: "report on the emulator of a state directory (exit 1 when not running)", options: { state: STATE } }),
};

const GROUP = defineCommand({
  name: "smartfleet emulator",
  summary,
  commands: Object.fromEntries(Object.entries(SPECS).map(([name, spec]) => [name, spec.summary])),
});

interface StartArgs {
  inventory: string;
  state: string;
  timeScale: number;
  seed: number;
  adminPort: number;
  detach: boolean;
}

/** What a running emulator process records in `DIR/emulator.json`. */
interface ProcessRecord {
  pid: number;
  adminUrl: string;
  startedAt: string;
}

function recordFile(state: string): string {
  return path.join(path.resolve(state), "emulator.json");
}

function readRecord(state: string): ProcessRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(recordFile(state), "utf8")) as ProcessRecord;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function startForeground(a: StartArgs): Promise<number> {
  const existing = readRecord(a.state);
  if (existing && existing.pid !== process.pid && alive(existing.pid)) {
    console.error(`smartfleet emulator: already running (pid ${existing.pid}) with state ${a.state}; stop it first`);
    return 1;
  }
  const { startEmulator } = await import("../../emulator/index");
  const t0 = Date.now();
  const emu = await startEmulator({ inventory: a.inventory, stateDir: a.state, timeScale: a.timeScale, seed: a.seed, adminPort: a.adminPort });
  const record: ProcessRecord = { pid: process.pid, adminUrl: emu.adminUrl, startedAt: new Date().toISOString() };
  fs.writeFileSync(recordFile(a.state), JSON.stringify(record) + "\n");
  console.log(`emulated fleet '${emu.endpoints.fleet}': ${emu.endpoints.dpus.length} DPUs up in ${Date.now() - t0} ms`);
  console.log(`endpoints: ${path.join(path.resolve(a.state), "endpoints.json")}`);
  console.log(`CA:        ${emu.endpoints.caFile}`);
  console.log(`admin URL: ${emu.adminUrl} (token in ${path.join(path.resolve(a.state), "admin-token")})`);
  await new Promise<void>((resolve) => {
    const done = (): void => resolve();
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
  });
  await emu.stop();
  const current = readRecord(a.state);
  if (current?.pid === process.pid) fs.rmSync(recordFile(a.state), { force: true });
  console.log("emulator stopped");
  return 0;
}

async function startDetached(a: StartArgs, args: string[]): Promise<number> {
  fs.mkdirSync(path.resolve(a.state), { recursive: true });
  const log = fs.openSync(path.join(path.resolve(a.state), "emulator.log"), "a");
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1], "emulator", "start", ...args.filter((x) => x !== "--detach")], {
    detached: true,
    stdio: ["ignore", log, log],
    env: process.env,
  });
  fs.closeSync(log);
  let exited: number | null = null;
  child.on("exit", (code) => (exited = code ?? 1));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const rec = readRecord(a.state);
    if (rec && rec.pid === child.pid) {
      child.unref();
      console.log(`emulator running in the background (pid ${rec.pid}); admin URL: ${rec.adminUrl}`);
      console.log(`stop it with: smartfleet emulator stop --state ${a.state}`);
      return 0;
    }
    if (exited !== null) {
      console.error(`smartfleet emulator: the background emulator exited (${exited}); see ${path.join(a.state, "emulator.log")}`);
      return 1;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  console.error(`smartfleet emulator: the background emulator did not come up within 60 s; see ${path.join(a.state, "emulator.log")}`);
  return 1;
}

async function stop(state: string): Promise<number> {
  const rec = readRecord(state);
  if (!rec || !alive(rec.pid)) {
    fs.rmSync(recordFile(state), { force: true });
    console.log(`no emulator running with state ${state}`);
    return 0;
  }
  process.kill(rec.pid, "SIGTERM");
  const deadline = Date.now() + 15_000;
  while (alive(rec.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(rec.pid)) {
    // SQLite commits every change before answering, so a hard stop loses nothing acknowledged.
    process.kill(rec.pid, "SIGKILL");
  }
  fs.rmSync(recordFile(state), { force: true });
  console.log(`emulator (pid ${rec.pid}) stopped`);
  return 0;
}

async function status(state: string): Promise<number> {
  const rec = readRecord(state);
  if (!rec || !alive(rec.pid)) {
    console.log(`not running (state ${state})`);
    return 1;
  }
  let dpus = "?";
  try {
    const endpoints = JSON.parse(fs.readFileSync(path.join(path.resolve(state), "endpoints.json"), "utf8")) as EndpointsFile;
    dpus = String(endpoints.dpus.length);
  } catch {
    // endpoints.json is written right after the ports bind; a missing one only hides the count.
  }
  console.log(`running (pid ${rec.pid}) since ${rec.startedAt}: ${dpus} DPUs; admin URL ${rec.adminUrl}`);
  return 0;
}

/** Runs `smartfleet emulator <sub-command>`. */
export async function run(args: string[]): Promise<number> {
  const chosen = subCommand(GROUP, Object.keys(SPECS) as Array<keyof typeof SPECS>, args);
  if (typeof chosen === "number") return chosen;
  const { name: sub, rest } = chosen;
  const parsed = parseCommand(SPECS[sub], rest);
  if (typeof parsed === "number") return parsed;
  const state = parsed.values.state;
  try {
    if (sub === "start") {
      const v = (parsed as Parsed<typeof SPECS.start>).values;
      const a: StartArgs = { inventory: v.inventory, state, timeScale: v["time-scale"], seed: Math.floor(v.seed), adminPort: Math.floor(v["admin-port"]), detach: v.detach };
      return a.detach ? await startDetached(a, rest) : await startForeground(a);
    }
    return sub === "stop" ? await stop(state) : await status(state);
  } catch (err) {
    console.error(`smartfleet emulator ${sub}: ${(err as Error).message}`);
    return 1;
  }
}
