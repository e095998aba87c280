/**
 * `smartfleet recover --stack NAME [--cwd DIR]`: makes a stack usable again after the
 * `pulumi` that was updating it died (`kill -9`, OOM, a CI runner ending the step).
 *
 * - **Stale locks.** The file backend keeps one lock per running update under
 *   `.pulumi/locks/organization/<project>/<stack>/<id>.json` (older layouts:
 *   `.pulumi/locks/<stack>/`), holding `{pid, username, hostname, timestamp}` of the CLI.
 *   A lock of this host whose process is gone (or whose pid now belongs to a process
 *   started after the lock was taken, or to something that is not `pulumi`) is removed; a
 *   lock of a live `pulumi`, or of another host, is left alone and recover fails.
 * - **Pending creates.** Operations the dead run had started stay in the checkpoint's
 *   `pending_operations`, and Pulumi carries pending creates from run to run until a user
 *   clears them. A create in smartfleet takes a resource under management (adoption), so
 *   clearing one is safe: the next `up` takes the resource again. They are removed with
 *   `pulumi stack export` / `stack import` (no management request needed).
 * - **Pending updates and deletes** are reported: `pulumi refresh` reconciles them with the
 *   hardware, and the next `up` drops them from the state (with a warning).
 * - **Hosts left in maintenance** by an interrupted rollout are reported (they count against
 *   their group's budget until a run disrupts them again); `--release-maintenance HOST`
 *   forgets a record when no run will (`cli/rollout-leftovers.ts`).
 *
 * `recoverStack` is the whole job without printing, for `smartfleet up` to run first.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { defineCommand, parseCommand } from "../args";
import { rolloutLeftovers, type RolloutLeftovers } from "../rollout-leftovers";

/** One line for `smartfleet help`. */
export const summary = "clear what a killed `pulumi up` left: its stale lock and pending creates";

const SPEC = defineCommand({
  name: "smartfleet recover",
  summary,
  options: {
    stack: { type: "string", required: true, valueName: "NAME", description: "the stack to recover" },
    cwd: { type: "string", valueName: "DIR", description: "the Pulumi project directory (default: the working directory)" },
    "release-maintenance": { type: "string", valueName: "HOST,...", multiple: true, description: "forget these hosts' maintenance records (an interrupted run left them; no run will take them out)" },
  },
});

/** A lock file of the file backend. */
export interface StackLock {
  file: string;
  pid: number;
  username: string;
  hostname: string;
  timestamp: string;
}

/** What to make of a lock. */
export type LockVerdict =
  | { stale: true; why: string }
  | { stale: false; why: string };

/** A pending operation of the checkpoint. */
export interface PendingOperation {
  type: string;
  urn: string;
}

/** What recover found and did. */
export interface RecoverReport {
  stack: string;
  /** Locks removed (their holder is gone). */
  locksRemoved: Array<StackLock & { why: string }>;
  /** Locks left in place (a live holder, or one recover cannot check). */
  locksHeld: Array<StackLock & { why: string }>;
  /** Pending creates removed from the checkpoint. */
  pendingCleared: PendingOperation[];
  /** Pending updates/deletes/reads, left for a refresh. */
  pendingLeft: PendingOperation[];
  /** What was put right in the backend's files (a checkpoint or its attribute file a kill left unreadable). */
  repaired: string[];
  /** Why recover could not finish; empty when it did. */
  problems: string[];
  /** A note about what was not checked. */
  notes: string[];
  /** What the rollout store holds from interrupted runs, when the stack file was found. */
  rollout?: RolloutLeftovers;
}

/** Runs the `pulumi` CLI; resolves to stdout, rejects with its output on failure. */
export type PulumiRunner = (args: string[], opts: { cwd: string }) => Promise<string>;

/** What a process looks like from here; injectable for tests. */
export interface ProcessProbe {
  hostname(): string;
  /** Whether `pid` exists on this host. */
  alive(pid: number): boolean;
  /** When `pid` started (ms since the epoch), if known. */
  startedAt(pid: number): number | undefined;
  /** Its command line, if known. */
  command(pid: number): string | undefined;
}

/** Recover options. */
export interface RecoverOptions {
  stack: string;
  /** The project directory (holds Pulumi.yaml, or is below it). */
  cwd: string;
  /** Environment (PULUMI_BACKEND_URL); default process.env. */
  env?: NodeJS.ProcessEnv;
  pulumi?: PulumiRunner;
  probe?: ProcessProbe;
  /** Hosts whose maintenance record to forget. */
  releaseMaintenance?: string[];
  /**
   * The stack file's `metadata.name` (its rollout store), when the caller has loaded the
   * file already: found otherwise by parsing it, seconds of CPU for a 2,000-DPU stack.
   */
  rollout?: string;
}

/** Finds and clears what a dead update left on `stack`. */
export async function recoverStack(opts: RecoverOptions): Promise<RecoverReport> {
  const env = opts.env ?? process.env;
  const pulumi = opts.pulumi ?? pulumiCli(env);
  const probe = opts.probe ?? localProbe;
  const report: RecoverReport = { stack: opts.stack, locksRemoved: [], locksHeld: [], pendingCleared: [], pendingLeft: [], repaired: [], problems: [], notes: [] };
  const project = readProject(opts.cwd);
  const stackName = opts.stack.split("/").pop() as string;

  const backend = fileBackendDir(env.PULUMI_BACKEND_URL ?? project.backendUrl);
  if (backend === undefined) {
    report.notes.push(`the backend (${env.PULUMI_BACKEND_URL ?? project.backendUrl ?? "none set"}) is not a file:// backend: its locks are not checked`);
  } else {
    for (const lock of findLocks(backend, project.name, stackName)) {
      const verdict = judgeLock(lock, probe);
      if (verdict.stale) {
        // The backend keeps a `.attrs` file beside each blob; it goes with its lock.
        for (const f of [lock.file, `${lock.file}.attrs`]) fs.rmSync(f, { force: true });
        report.locksRemoved.push({ ...lock, why: verdict.why });
      } else {
        report.locksHeld.push({ ...lock, why: verdict.why });
      }
    }
    if (report.locksHeld.length) {
      report.problems.push(`the stack is locked by ${report.locksHeld.length === 1 ? "a process" : "processes"} recover cannot clear; the pending operations were not touched`);
      return report;
    }
    const repair = repairCheckpoint(backend, project.name, stackName);
    report.repaired.push(...repair.done);
    if (repair.problem) {
      report.problems.push(repair.problem);
      return report;
    }
  }
  report.rollout = await rolloutLeftovers(project.dir, stackName, opts.releaseMaintenance ?? [], opts.rollout);

  // The checkpoint file holds the pending operations an export would show; only clearing
  // creates needs the export, whose format the import takes. That spares a `pulumi` run
  // reading the whole state before every `smartfleet up` on a file backend.
  const inCheckpoint = backend === undefined ? undefined : checkpointPending(backend, project.name, stackName);
  if (inCheckpoint && !inCheckpoint.some((op) => op.type === "creating")) {
    report.pendingLeft = inCheckpoint;
    return report;
  }
  let exported: string;
  try {
    exported = await pulumi(["stack", "export", "--stack", opts.stack], { cwd: project.dir });
  } catch (err) {
    report.problems.push(`pulumi stack export failed: ${(err as Error).message.trim()}`);
    return report;
  }
  const state = JSON.parse(exported) as { deployment?: { pending_operations?: Array<{ type: string; resource: { urn: string } }> } };
  const pending = state.deployment?.pending_operations ?? [];
  const creates = pending.filter((op) => op.type === "creating");
  report.pendingLeft = pending.filter((op) => op.type !== "creating").map((op) => ({ type: op.type, urn: op.resource.urn }));
  if (creates.length && state.deployment) {
    state.deployment.pending_operations = pending.filter((op) => op.type !== "creating");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smartfleet-recover-"));
    const file = path.join(dir, "state.json");
    try {
      fs.writeFileSync(file, JSON.stringify(state), { mode: 0o600 });
      await pulumi(["stack", "import", "--stack", opts.stack, "--file", file], { cwd: project.dir });
      report.pendingCleared = creates.map((op) => ({ type: op.type, urn: op.resource.urn }));
    } catch (err) {
      report.problems.push(`pulumi stack import failed: ${(err as Error).message.trim()}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  return report;
}

/**
 * Makes the stack's checkpoint readable again after a kill, and answers what was done.
 *
 * The file backend writes a blob to a temporary file and renames it, so the checkpoint
 * itself is whole; but beside each blob it keeps a `<blob>.attrs` file (content type,
 * MD5) that it truncates and rewrites in place. A kill in between leaves it empty, and
 * every read of the checkpoint then fails with "failed to load checkpoint: EOF" (seen in
 * CI). A missing `.attrs` is read as defaults, so an unreadable one is moved aside.
 *
 * A checkpoint that is itself unreadable (written by other means, or damaged) is put back
 * from the backend's copy of the one before it (`<stack>.json.bak`, written before every
 * save); the unreadable file is kept beside it.
 */
export function repairCheckpoint(backendDir: string, project: string, stack: string): { done: string[]; problem?: string } {
  const file = checkpointFile(backendDir, project, stack);
  if (!file) return { done: [] };
  const done = [file, `${file}.bak`].flatMap((f) => moveAsideUnreadable(`${f}.attrs`)).map((kept) => `the backend's attribute file ${path.basename(kept.from)} was unreadable (cut short by the kill): moved aside as ${path.basename(kept.to)}`);
  if (readsAsJson(file)) return { done };
  const backup = `${file}.bak`;
  if (!readsAsJson(backup)) return { done, problem: `the checkpoint ${file} is unreadable and has no readable backup: restore it from .pulumi/backups by hand` };
  const kept = moveAsideUnreadable(file)[0];
  fs.copyFileSync(backup, file);
  done.push(`the checkpoint was unreadable (cut short by the kill): restored the one before it from ${path.basename(backup)}; the unreadable file is kept as ${path.basename(kept.to)}`);
  return { done };
}

/** The stack's plain checkpoint file in a file backend (newer layout first), if there is one (not when gzipped). */
function checkpointFile(backendDir: string, project: string, stack: string): string | undefined {
  const candidates = [path.join(backendDir, ".pulumi", "stacks", project, `${stack}.json`), path.join(backendDir, ".pulumi", "stacks", `${stack}.json`)];
  return candidates.find((f) => fs.existsSync(f));
}

/** The pending operations of the stack's checkpoint file; undefined when there is no readable one. */
function checkpointPending(backendDir: string, project: string, stack: string): PendingOperation[] | undefined {
  const file = checkpointFile(backendDir, project, stack);
  if (!file) return undefined;
  try {
    const saved = JSON.parse(fs.readFileSync(file, "utf8")) as { checkpoint?: { latest?: { pending_operations?: Array<{ type: string; resource: { urn: string } }> } | null } };
    return (saved.checkpoint?.latest?.pending_operations ?? []).map((op) => ({ type: op.type, urn: op.resource.urn }));
  } catch {
    return undefined;
  }
}

/** Renames `file` to `<file>.unreadable-<time>` when it exists and is not JSON. */
function moveAsideUnreadable(file: string): Array<{ from: string; to: string }> {
  if (!fs.existsSync(file) || readsAsJson(file)) return [];
  const to = `${file}.unreadable-${Date.now()}`;
  fs.renameSync(file, to);
  return [{ from: file, to }];
}

function readsAsJson(file: string): boolean {
  try {
    JSON.parse(fs.readFileSync(file, "utf8"));
    return true;
  } catch {
    return false;
  }
}

/** The report as lines for a terminal. */
export function formatReport(report: RecoverReport): string {
  const lines: string[] = [];
  for (const l of report.locksRemoved) lines.push(`removed the lock of pid ${l.pid} (${l.username}@${l.hostname}, since ${l.timestamp}): ${l.why}`);
  for (const l of report.locksHeld) lines.push(`left the lock of pid ${l.pid} (${l.username}@${l.hostname}, since ${l.timestamp}): ${l.why}`);
  if (report.pendingCleared.length) {
    lines.push(`cleared ${report.pendingCleared.length} pending create${report.pendingCleared.length === 1 ? "" : "s"} (a create takes a resource under management; the next up takes it again):`);
    for (const op of report.pendingCleared) lines.push(`  ${op.type}  ${op.urn}`);
  }
  if (report.pendingLeft.length) {
    lines.push(`left ${report.pendingLeft.length} pending update/delete operation(s): \`pulumi refresh --stack ${report.stack} --yes\` reconciles them with the hardware (the next up also drops them, with a warning):`);
    for (const op of report.pendingLeft) lines.push(`  ${op.type}  ${op.urn}`);
  }
  lines.push(...report.repaired);
  const rollout = rolloutLines(report);
  lines.push(...rollout.done);
  // Hosts left in maintenance are news, not something recover clears: the next disruption of each does.
  const notes = [...report.notes, ...rollout.notes];
  for (const n of notes) lines.push(`note: ${n}`);
  for (const p of report.problems) lines.push(`could not recover: ${p}`);
  if (!lines.length || (notes.length === lines.length && !report.problems.length)) lines.push(`nothing to recover on stack ${report.stack}`);
  return lines.join("\n");
}

/** The rollout store's leftovers in words: what was done, and what to know. */
function rolloutLines(report: RecoverReport): { done: string[]; notes: string[] } {
  const r = report.rollout;
  if (!r) return { done: [], notes: [] };
  const done = r.released.map((host) => `forgot the maintenance record of host ${host}: it no longer counts against its group's budget`);
  const notes = [
    ...r.maintenance.map(
      (m) =>
        `host ${m.host} is in maintenance since ${new Date(m.since).toISOString()}, left there by an interrupted run${m.note ? ` (${m.note})` : ""}: ` +
        `it counts against ${m.group ?? "its group"}'s budget until its next disruption takes it out; if no run will (it left the stack, or was repaired by hand), ` +
        `\`smartfleet recover --stack ${report.stack} --release-maintenance ${m.host}\``,
    ),
    ...r.unknown.map((host) => `no maintenance record of host ${host} in rollout ${r.rollout} (nothing to release)`),
  ];
  return { done, notes };
}

/** Runs the command; resolves to the exit code. */
export async function run(args: string[]): Promise<number> {
  const parsed = parseCommand(SPEC, args);
  if (typeof parsed === "number") return parsed;
  const cwd = path.resolve(parsed.values.cwd ?? process.cwd());
  if (!fs.existsSync(cwd)) {
    console.error(`smartfleet recover: no directory ${cwd}`);
    return 2;
  }
  let report: RecoverReport;
  try {
    const releaseMaintenance = parsed.values["release-maintenance"].flatMap((v) => v.split(",")).map((h) => h.trim()).filter(Boolean);
    report = await recoverStack({ stack: parsed.values.stack as string, cwd, releaseMaintenance });
  } catch (err) {
    console.error(`smartfleet recover: ${(err as Error).message}`);
    return 1;
  }
  const text = formatReport(report);
  if (report.problems.length) console.error(text);
  else console.log(text);
  return report.problems.length ? 1 : 0;
}

/** Every lock file of the stack in a file backend rooted at `backendDir`. */
export function findLocks(backendDir: string, project: string, stack: string): StackLock[] {
  const dirs = [path.join(backendDir, ".pulumi", "locks", "organization", project, stack), path.join(backendDir, ".pulumi", "locks", stack)];
  const locks: StackLock[] = [];
  for (const dir of dirs) {
    if (!fs.existsSync(dir)) continue;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith(".json")) continue;
      const file = path.join(dir, entry.name);
      const content = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<StackLock>;
      locks.push({ file, pid: Number(content.pid), username: String(content.username ?? "?"), hostname: String(content.hostname ?? "?"), timestamp: String(content.timestamp ?? "?") });
    }
  }
  return locks;
}

/** Whether a lock's holder is gone: only a lock of this host can be judged. */
export function judgeLock(lock: StackLock, probe: ProcessProbe): LockVerdict {
  if (lock.hostname !== probe.hostname()) {
    return { stale: false, why: `it was taken on host ${lock.hostname}, not this one (${probe.hostname()}): recover cannot tell whether it is alive; if it is not, run \`pulumi cancel\`` };
  }
  if (!Number.isInteger(lock.pid) || lock.pid <= 0) return { stale: false, why: "the lock names no process" };
  if (!probe.alive(lock.pid)) return { stale: true, why: "the process is gone" };
  const started = probe.startedAt(lock.pid);
  const taken = Date.parse(lock.timestamp);
  // The CLI takes the lock after it started; a process started later only reuses the pid.
  if (started !== undefined && Number.isFinite(taken) && started > taken + 1_000) {
    return { stale: true, why: `the process is gone (pid ${lock.pid} now belongs to a process started after the lock was taken)` };
  }
  const command = probe.command(lock.pid);
  if (command !== undefined && !/pulumi/.test(command)) {
    return { stale: true, why: `the process is gone (pid ${lock.pid} now runs ${command.slice(0, 60)})` };
  }
  return { stale: false, why: `pid ${lock.pid} is alive: an update is running; wait for it to end` };
}

/** The project's name and backend, from the nearest Pulumi.yaml at or above `dir`. */
function readProject(dir: string): { dir: string; name: string; backendUrl?: string } {
  for (let d = path.resolve(dir), parent = ""; d !== parent; parent = d, d = path.dirname(d)) {
    for (const file of ["Pulumi.yaml", "Pulumi.yml"]) {
      const candidate = path.join(d, file);
      if (!fs.existsSync(candidate)) continue;
      const doc = YAML.parse(fs.readFileSync(candidate, "utf8")) as { name?: string; backend?: { url?: string } };
      if (!doc?.name) throw new Error(`${candidate} names no project`);
      return { dir: d, name: doc.name, backendUrl: doc.backend?.url };
    }
  }
  throw new Error(`no Pulumi.yaml at or above ${dir}`);
}

/** The directory of a file:// backend URL; undefined for any other backend. */
export function fileBackendDir(url: string | undefined): string | undefined {
  if (!url || !url.startsWith("file://")) return undefined;
  const bare = url.slice("file://".length).replace(/\?.*$/, "");
  return bare === "~" || bare.startsWith("~/") ? path.join(os.homedir(), bare.slice(1)) : path.resolve(bare);
}

function pulumiCli(env: NodeJS.ProcessEnv): PulumiRunner {
  return (args, { cwd }) =>
    new Promise((resolve, reject) => {
      execFile("pulumi", [...args, "--non-interactive"], { cwd, env, maxBuffer: 256 * 1024 * 1024 }, (error, stdout, stderr) =>
        error ? reject(new Error(`${stderr || error.message}`)) : resolve(stdout),
      );
    });
}

/** Processes of this host, from /proc. */
const localProbe: ProcessProbe = {
  hostname: () => os.hostname(),
  alive(pid) {
    try {
      process.kill(pid, 0);
      return !fs.existsSync(`/proc/${pid}/stat`) || !/\) Z /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === "EPERM";
    }
  },
  startedAt(pid) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const ticks = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]);
      const boot = Number(/^btime (\d+)$/m.exec(fs.readFileSync("/proc/stat", "utf8"))?.[1]);
      // USER_HZ is 100 on every Linux Node runs on.
      return Number.isFinite(ticks) && Number.isFinite(boot) ? boot * 1000 + ticks * 10 : undefined;
    } catch {
      return undefined;
    }
  },
  command(pid) {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ") || undefined;
    } catch {
      return undefined;
    }
  },
};
