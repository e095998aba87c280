import { execFile, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DpuState } from "../../emulator/model";
import { repoRoot } from "../support/pulumi";
import {
  admin,
  countFleet,
  endpointsFileOf,
  fleetState,
  LAB_COUNTS,
  labStack,
  makeLabProject,
  pulumiCli,
  spawnEmulator,
  startLabEmulator,
  type AdminAccess,
  type EmulatorProcess,
  type LabProject,
} from "./lab";

/** Every DPU the lab stack manages (esx-04/nic2 stays unmanaged). */
const MANAGED = ["esx-01/nic1", "esx-01/nic2", "esx-02/nic1", "esx-03/nic1", "esx-04/nic1"];
/** How long the processes of a killed `pulumi up` may outlive it. */
const ORPHAN_DEADLINE_MS = Number(process.env.SMARTFLEET_CRASH_OBSERVE_MS ?? 15_000);
/** Emulated durations 100x faster than hardware: a host OS install takes ~7 s, so a kill lands mid-apply. */
const TIME_SCALE = 0.01;

/**
 * `kill -9` of `pulumi up` in the middle of an apply, three times in a row, then
 * `smartfleet recover` and `up`: the processes the killed CLI started (language host,
 * program, dynamic-provider shim and process) exit on their own within seconds and send
 * no management request but their session logouts; recover removes the dead CLI's lock
 * and the pending creates; the next `up` converges to exactly what a clean run makes.
 *
 * The kill is `kill -9 <pid of pulumi>`, what a user (or the OOM killer, or a CI runner
 * timing out a step) does: only the CLI dies. Killing its process group would not reach
 * further: the engine starts every plugin in a process group of its own (Setpgid), so
 * the plugins outlive either kind of kill and must notice on their own.
 */
describe("pulumi up killed with SIGKILL mid-apply, three times, then recover and up", () => {
  let project: LabProject;
  let emulator: EmulatorProcess | undefined;
  let clean: Record<string, unknown>;
  const figures: string[] = [];
  const leftovers = new Set<number>();

  beforeAll(async () => {
    project = await makeLabProject("127.205.0");
  });

  afterAll(async () => {
    for (const pid of leftovers) killQuietly(pid);
    await emulator?.kill("SIGKILL");
    project?.cleanup();
    if (figures.length) console.log(`crash-recovery figures:\n  ${figures.join("\n  ")}`);
  });

  it("records what a clean up makes (the reference)", async () => {
    const reference = await startLabEmulator(project, 0);
    try {
      const stack = await labStack(project, "clean", endpointsFileOf(project));
      const up = await stack.up({ parallel: 32 });
      expect(up.summary.result).toBe("succeeded");
      clean = normalise(await fleetState(reference));
    } finally {
      await reference.stop();
      fs.rmSync(project.emulatorDir, { recursive: true, force: true });
    }
  }, 120_000);

  it("leaves no process of a killed up alive within a second, and no request started after the provider noticed but logouts", async () => {
    // The fleet in a process of its own, as hardware is: requests are counted when they
    // arrive, not when a busy test process gets round to them.
    emulator = await spawnEmulator(project, TIME_SCALE);
    const running = emulator;
    await labStack(project, "crash", emulator.endpointsFile);
    for (let run = 1; run <= 3; run += 1) {
      // The dead run's lock (and a checkpoint the kill may have cut short) cleared as the
      // README says; runs 2 and 3 then start on what the runs before left.
      if (run > 1) expect((await smartfleet(project, ["recover", "--stack", "crash", "--cwd", project.workDir])).code).toBe(0);
      const started = Date.now();
      const before = await counters(running);
      const watchLog = path.join(project.sandbox.dir, `engine-watch-${run}.log`);
      const cli = spawnUp(project, "crash", { SMARTFLEET_ENGINE_WATCH_LOG: watchLog });
      // Mid-apply: the CLI has made progress on the hardware (requests beyond its first
      // reads) and a task (an install, a reboot) is running on some DPU.
      await waitFor(async () => {
        if (cli.exited()) throw new Error(`run ${run}: pulumi up ended before the kill:\n${cli.output()}`);
        const sent = total(await counters(running)) - total(before);
        return sent >= 20 && (await runningTasks(running)) > 0;
      }, 60_000);
      const tree = processTree(cli.child.pid as number);
      const sessionsAtKill = await sessionsBySerial(running);
      // Read just before the kill: a request landing in between counts as after it.
      const atKill = await counters(running);
      process.kill(cli.child.pid as number, "SIGKILL");
      const killedAt = Date.now();
      for (const p of tree) leftovers.add(p.pid);

      const survivors = await waitForExit(tree, ORPHAN_DEADLINE_MS);
      const lived = Date.now() - killedAt;
      // Anything still queued on a socket lands now.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const after = await counters(running);
      const sessionsAfter = await sessionsBySerial(running);
      const afterKill = total(after) - total(atKill);
      const loggedOut = sessionsGone(sessionsAtKill, sessionsAfter);
      figures.push(
        `run ${run}: killed after ${((killedAt - started) / 1000).toFixed(1)} s; ${tree.length} processes in its tree ` +
          `(${tree.map((p) => p.name).join(", ")}); ` +
          (survivors.length ? `${survivors.length} still alive after ${lived} ms (${survivors.map((p) => p.name).join(", ")})` : `all gone ${lived} ms after the kill`) +
          `; ${afterKill} management requests after the kill (by status: ${JSON.stringify(statusDelta(atKill, after))}), ${loggedOut} sessions logged out`,
      );
      expect(survivors.map((p) => `${p.pid} ${p.name}`), `run ${run}: processes of the killed up still alive`).toEqual([]);
      // The provider noticed within milliseconds (the kernel closes the engine's end of its
      // stdin when the engine dies) and started no request after that but its logouts; a
      // request started in those milliseconds, or already on the wire, still reaches the port.
      const watch = fs.readFileSync(watchLog, "utf8").trim().split("\n").map((l) => JSON.parse(l) as { reason: string; detectedAt: number; lastRequestAt?: number; refused: number; shutdownRequests: number; exitAt: number });
      expect(watch, `run ${run}: one provider process`).toHaveLength(1);
      const [w] = watch;
      figures.push(
        `run ${run}: provider noticed (${w.reason}) ${w.detectedAt - killedAt} ms after the kill, exited ${w.exitAt - killedAt} ms after it; ` +
          `last request before: ${w.lastRequestAt === undefined ? "none" : `${killedAt - w.lastRequestAt} ms before the kill`}; refused ${w.refused}, logouts ${w.shutdownRequests}`,
      );
      expect(w.detectedAt - killedAt).toBeLessThan(1_000);
      expect(w.lastRequestAt ?? 0, `run ${run}: a request started after the provider noticed`).toBeLessThanOrEqual(w.detectedAt);
      expect(w.shutdownRequests).toBeLessThanOrEqual(loggedOut);
      const later = await counters(running);
      expect(total(later), `run ${run}: requests once every process is gone`).toBe(total(after));
    }
  }, 240_000);

  it("recover clears the dead run's lock and pending creates, and the next up converges to the clean run's fleet", async () => {
    const running = emulator as EmulatorProcess;
    // Read from the backend's file, not `pulumi stack export`: the kill may have cut the
    // checkpoint short, and then export fails until recover puts the one before it back.
    const checkpoint = checkpointFile(project.sandbox.backendDir, "crash");
    const cutShort = readJson(checkpoint) === undefined;
    const readable = (cutShort ? readJson(`${checkpoint}.bak`) : readJson(checkpoint)) as { checkpoint?: { latest?: { pending_operations?: unknown[] } } } | undefined;
    expect(readable, "the checkpoint or its backup reads").toBeDefined();
    const pendingBefore = readable?.checkpoint?.latest?.pending_operations?.length ?? 0;
    const lockDir = path.join(project.sandbox.backendDir, ".pulumi", "locks");
    const locksBefore = (fs.readdirSync(lockDir, { recursive: true }) as string[]).filter((f) => f.endsWith(".json"));
    expect(locksBefore.length, "the killed CLI left its lock").toBeGreaterThan(0);

    const started = Date.now();
    const recovered = await smartfleet(project, ["recover", "--stack", "crash", "--cwd", project.workDir]);
    const recoverMs = Date.now() - started;
    expect(recovered.code, recovered.output).toBe(0);
    expect(recovered.output).toMatch(/removed the lock of pid \d+/);
    if (cutShort) expect(recovered.output).toMatch(/restored the one before it/);
    if (pendingBefore > 0) expect(recovered.output).toMatch(/cleared \d+ pending create/);
    const again = await smartfleet(project, ["recover", "--stack", "crash", "--cwd", project.workDir]);
    expect(again.code, again.output).toBe(0);
    expect(again.output).toMatch(/nothing to recover/);

    // An install the last killed run started goes on on its DPU; up waits for it and converges.
    const upStarted = Date.now();
    await pulumiCli(project, ["up", "--yes", "--skip-preview", "--parallel", "32", "--stack", "crash"]);
    const upMs = Date.now() - upStarted;
    figures.push(`recover: ${recoverMs} ms (${pendingBefore} pending operations, ${locksBefore.length} lock); up after recover: ${upMs} ms`);

    const hw = await fleetState(running);
    expect(countFleet(hw)).toEqual(LAB_COUNTS);
    for (const ref of MANAGED) expect(hw[project.serials[ref]].accounts, ref).toHaveLength(1);
    expect(normalise(hw)).toEqual(clean);
    const after = JSON.parse(await pulumiCli(project, ["stack", "export", "--stack", "crash"])) as { deployment: { pending_operations?: unknown[] } };
    expect(after.deployment.pending_operations ?? []).toEqual([]);
    const preview = await pulumiCli(project, ["preview", "--stack", "crash", "--json", "--parallel", "32"]);
    expect(Object.keys((JSON.parse(preview) as { changeSummary: Record<string, number> }).changeSummary)).toEqual(["same"]);
  }, 240_000);
});

/** The file backend's checkpoint of `stack` (`.pulumi/stacks/<project>/<stack>.json`). */
function checkpointFile(backendDir: string, stack: string): string {
  const stacks = path.join(backendDir, ".pulumi", "stacks");
  const found = (fs.readdirSync(stacks, { recursive: true }) as string[]).find((f) => path.basename(f) === `${stack}.json`);
  if (!found) throw new Error(`no checkpoint of stack ${stack} under ${stacks}`);
  return path.join(stacks, found);
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

/** A `pulumi up` started the way a user starts it, in a process group of its own. */
interface CliRun {
  child: ChildProcess;
  exited(): boolean;
  output(): string;
}

function spawnUp(project: LabProject, stackName: string, env: Record<string, string>): CliRun {
  const child = spawn(project.sandbox.command.command, ["up", "--yes", "--skip-preview", "--parallel", "32", "--stack", stackName], {
    cwd: project.workDir,
    env: { ...process.env, ...project.sandbox.envVars, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  child.stdout?.on("data", (c: Buffer) => (output += c.toString("utf8")));
  child.stderr?.on("data", (c: Buffer) => (output += c.toString("utf8")));
  return { child, exited: () => child.exitCode !== null || child.signalCode !== null, output: () => output };
}

/** Runs `smartfleet` (the built CLI) in the sandbox's environment. */
function smartfleet(project: LabProject, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(repoRoot, "cli", "bin", "smartfleet.js"), ...args],
      { cwd: project.workDir, env: { ...process.env, ...project.sandbox.envVars } },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

/** One process as /proc shows it. */
interface Proc {
  pid: number;
  ppid: number;
  pgid: number;
  start: string;
  name: string;
}

function readProc(pid: number): Proc | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z") return undefined;
    const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    const name = cmd.map((a) => path.basename(a)).find((a) => /^pulumi|\.js$|^sh$/.test(a) && a !== "node") ?? path.basename(cmd[0] ?? "?");
    return { pid, ppid: Number(fields[1]), pgid: Number(fields[2]), start: fields[19], name };
  } catch {
    return undefined;
  }
}

function allProcs(): Proc[] {
  return fs
    .readdirSync("/proc")
    .filter((e) => /^\d+$/.test(e))
    .map((e) => readProc(Number(e)))
    .filter((p): p is Proc => p !== undefined);
}

/** The process `root` and all its descendants. */
function processTree(root: number): Proc[] {
  const procs = allProcs();
  const tree = procs.filter((p) => p.pid === root);
  for (let i = 0; i < tree.length; i += 1) tree.push(...procs.filter((p) => p.ppid === tree[i].pid));
  return tree;
}

/** Waits until none of `tree` (same pid and start time) nor any process in their process groups is alive; returns the survivors. */
async function waitForExit(tree: Proc[], deadlineMs: number): Promise<Proc[]> {
  const groups = new Set(tree.map((p) => p.pgid));
  const alive = (): Proc[] =>
    allProcs().filter((p) => tree.some((t) => t.pid === p.pid && t.start === p.start) || (groups.has(p.pgid) && p.pid !== process.pid && p.pgid !== process.pid));
  const deadline = Date.now() + deadlineMs;
  let survivors = alive();
  while (survivors.length && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    survivors = alive();
  }
  return survivors;
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // gone already
  }
}

type Counters = Record<string, { requests: number; byStatus: Record<string, number> }>;

async function counters(access: AdminAccess): Promise<Counters> {
  return admin<Counters>(access, "GET", "/admin/v1/counters");
}

/** Answers by HTTP status between two counter reads, over every port. */
function statusDelta(before: Counters, after: Counters): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [port, c] of Object.entries(after)) {
    for (const [status, n] of Object.entries(c.byStatus)) {
      const d = n - (before[port]?.byStatus[status] ?? 0);
      if (d) delta[status] = (delta[status] ?? 0) + d;
    }
  }
  return delta;
}

function total(c: Record<string, { requests: number }>): number {
  return Object.values(c).reduce((n, v) => n + v.requests, 0);
}

async function runningTasks(access: AdminAccess): Promise<number> {
  const dpus = await admin<Array<{ serial: string }>>(access, "GET", "/admin/v1/dpus");
  let n = 0;
  for (const d of dpus) {
    const dump = await admin<{ tasks: Array<{ state: string }> }>(access, "GET", `/admin/v1/dpus/${encodeURIComponent(d.serial)}/state`);
    n += dump.tasks.filter((t) => t.state === "Running" || t.state === "New").length;
  }
  return n;
}

/** Each port's live sessions, and the id its next session gets. */
type Sessions = Record<string, { ids: string[]; next: number }>;

async function sessionsBySerial(access: AdminAccess): Promise<Sessions> {
  const states = await fleetState(access);
  return Object.fromEntries(Object.entries(states).map(([serial, s]) => [serial, { ids: s.sessions.map((x) => x.id), next: s.nextId.session }]));
}

/**
 * Sessions that ended between two reads: those of the first read that are gone, and those
 * opened after it (a login in flight at the kill) that are gone too. Ids count up.
 */
function sessionsGone(before: Sessions, after: Sessions): number {
  let gone = 0;
  for (const [serial, b] of Object.entries(before)) {
    const a = after[serial] ?? { ids: [], next: b.next };
    gone += b.ids.filter((id) => !a.ids.includes(id)).length;
    const openedSince = a.next - b.next;
    gone += openedSince - a.ids.filter((id) => Number(id) >= b.next).length;
  }
  return gone;
}

/**
 * A fleet's state without what differs between two equal runs: ids the DPU allocates,
 * sessions, change counters, times. References by id become references by the
 * referenced object's type, so "the vNIC backed by the firewall service" still compares.
 */
function normalise(states: Record<string, DpuState>): Record<string, unknown> {
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (value && typeof value === "object") {
      return Object.fromEntries(
        Object.entries(value)
          .filter(([k]) => !["id", "generation", "sessions", "nextId", "etag", "token"].includes(k) && !/(At|Time|Id|Ids)$/.test(k))
          .map(([k, v]) => [k, strip(v)]),
      );
    }
    return value;
  };
  return Object.fromEntries(
    Object.entries(states).map(([serial, s]) => {
      const serviceType = new Map(s.services.map((svc) => [svc.id, svc.serviceType]));
      const withRefs = { ...s, hostDevices: s.hostDevices.map((d) => ({ ...d, backingService: d.backingService ? serviceType.get(d.backingService) ?? "?" : d.backingService })) };
      return [serial, strip(withRefs)];
    }),
  );
}

/** Polls `condition` every 100 ms until it holds; fails after `timeoutMs`. */
async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
