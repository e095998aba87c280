// Runs the real Pulumi CLI (or the measured build's smartfleet CLI) for one scenario, timed
// end to end, while sampling the peak resident memory of the processes it starts.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { cpuSecondsOf } from "./cpu";
import { ProcessTreeSampler, treeFigures, type TreeFigures } from "./process-tree";

export { cpuSecondsOf };

/** A Pulumi command a scenario runs. */
export type PulumiOperation = "up" | "preview" | "preview-change" | "refresh" | "destroy";

/** Sampling interval of the process tree (see process-tree.ts for why sampling). */
const SAMPLE_MS = 250;

/** What one timed command measured: its wall time, its processes' figures and what it printed. */
export interface TimedRun extends TreeFigures {
  seconds: number;
  /** stdout and stderr of this command (also appended to the log file). */
  output: string;
}

/** Where and how a `PulumiRunner` runs the CLI. */
export interface PulumiRunnerOptions {
  cwd: string;
  stack: string;
  /** Added to the environment; null removes a variable. */
  env: Record<string, string | null>;
  parallel: number;
  log: (line: string) => void;
}

/**
 * A Pulumi CLI bound to one project folder, backend and stack. `env` adds to the
 * toolchain's environment (backend URL, passphrase, checkpoint setting).
 */
export class PulumiRunner {
  readonly cwd: string;
  readonly stack: string;
  readonly env: NodeJS.ProcessEnv;
  readonly parallel: number;
  readonly log: (line: string) => void;

  constructor({ cwd, stack, env, parallel, log }: PulumiRunnerOptions) {
    this.cwd = cwd;
    this.stack = stack;
    const merged: Record<string, string | null | undefined> = { ...process.env, ...env };
    // null removes a variable the toolchain set (e.g. its passphrase file, when a passphrase is given)
    for (const [key, value] of Object.entries(merged)) if (value === null) delete merged[key];
    this.env = merged as NodeJS.ProcessEnv;
    this.parallel = parallel;
    this.log = log;
  }

  /** Runs a quick command (config, stack init), failing loudly. */
  quick(args: string[], input?: string): string {
    const res = spawnSync("pulumi", [...args, "--stack", this.stack, "--non-interactive"], { cwd: this.cwd, env: this.env, input, encoding: "utf8" });
    if (res.status !== 0) throw new Error(`pulumi ${args.join(" ")} failed (${res.status}):\n${res.stderr}${res.stdout}`);
    return res.stdout;
  }

  /** Creates the stack (if missing) and sets its configuration; the password goes through stdin. */
  configure({ stackFile, endpointsFile, caFile, password }: { stackFile: string; endpointsFile: string; caFile: string; password: string }): void {
    const init = spawnSync("pulumi", ["stack", "select", "--create", this.stack, "--non-interactive"], { cwd: this.cwd, env: this.env, encoding: "utf8" });
    if (init.status !== 0) throw new Error(`pulumi stack select --create ${this.stack} failed:\n${init.stderr}`);
    this.quick(["config", "set", "smartfleet:stackFile", stackFile]);
    this.quick(["config", "set", "smartfleet:endpoints", endpointsFile]);
    this.quick(["config", "set", "smartfleet:caFile", caFile]);
    this.quick(["config", "set", "--secret", "smartfleet:managementPassword"], password);
  }

  /**
   * Runs `pulumi <operation>` for a scenario and returns `{ seconds, providerPeakRssMiB, providerCpuSeconds }`.
   * Output goes to `logFile`; a failure throws with its tail. `extraEnv` adds variables
   * for this run only (request tracing).
   */
  async timed(operation: PulumiOperation, logFile: string, extra: string[] = [], extraEnv: Record<string, string> = {}): Promise<TimedRun> {
    const args = ({
      up: ["up", "--yes", "--skip-preview"],
      preview: ["preview", "--expect-no-changes"],
      // A preview of a pending change: the changes it shows are read from its output.
      "preview-change": ["preview"],
      refresh: ["refresh", "--yes", "--skip-preview", "--expect-no-changes"],
      destroy: ["destroy", "--yes", "--skip-preview"],
    } as Record<string, string[] | undefined>)[operation];
    if (!args) throw new Error(`unknown pulumi operation ${operation}`);
    const full = [...args, ...extra, "--stack", this.stack, "--non-interactive", "--parallel", String(this.parallel)];
    return this.timedCommand("pulumi", full, `pulumi ${operation}`, logFile, extraEnv);
  }

  /**
   * Runs `smartfleet plan --stack <stack> --format json` of the project's build (which
   * runs its `pulumi preview` with this runner's backend and passphrase), timed like `timed`; the plan goes to `outFile`. `accept` lists the exit
   * codes that are not failures (plan exits 1 for a policy error, with the plan written).
   */
  async timedPlan(outFile: string, logFile: string, extraEnv: Record<string, string> = {}, accept: readonly number[] = [0]): Promise<TimedRun & { code: number }> {
    const main = `${this.cwd}/dist/cli/main.js`;
    const args = [main, "plan", "--stack", this.stack, "--cwd", this.cwd, "--format", "json", "--out", outFile, "--parallel", String(this.parallel)];
    return this.timedCommand(process.execPath, args, "smartfleet plan", logFile, extraEnv, accept);
  }

  /**
   * Runs the project build's `smartfleet <args>` (its CLI, which drives Pulumi through the
   * Automation API with this runner's environment), timed like `timed`. `accept` lists the
   * exit codes that are not failures.
   */
  async timedSmartfleet(args: string[], logFile: string, extraEnv: Record<string, string> = {}, accept: readonly number[] = [0]): Promise<TimedRun & { code: number }> {
    return this.timedCommand(process.execPath, [`${this.cwd}/dist/cli/main.js`, ...args], `smartfleet ${args[0]}`, logFile, extraEnv, accept);
  }

  /**
   * The `--require` of the project build's engine-watch preload, which `npm run pulumi`
   * and `smartfleet` give every Node process of a run (it also keeps the provider host
   * from loading what it never uses): a plain `pulumi` here runs as a user's would.
   * Empty for a build that has none (an older commit).
   */
  private preload(): string {
    const file = path.join(this.cwd, "dist", "providers", "common", "engine-watch-preload.js");
    return fs.existsSync(file) ? `--require ${JSON.stringify(file)}` : "";
  }

  /**
   * Node's compile cache as `npm run pulumi` and `smartfleet` give it to the processes of a
   * run (`providers/common/compile-cache.ts`); none for a build without it (an older commit).
   */
  private compileCache(): Record<string, string> {
    const file = path.join(this.cwd, "dist", "providers", "common", "compile-cache.js");
    if (!fs.existsSync(file)) return {};
    const dir = (require(file) as { compileCacheDir: (env: NodeJS.ProcessEnv) => string | undefined }).compileCacheDir(this.env);
    return dir ? { NODE_COMPILE_CACHE: dir } : {};
  }

  /** Spawns `command` in the project, timed from spawn to exit, sampling the processes it starts. */
  private async timedCommand(command: string, full: string[], what: string, logFile: string, extraEnv: Record<string, string>, accept: readonly number[] = [0]): Promise<TimedRun & { code: number }> {
    const out = fs.openSync(logFile, "a");
    fs.writeSync(out, `\n$ ${command === "pulumi" ? "pulumi" : "node"} ${full.join(" ")}\n`);
    const from = fs.fstatSync(out).size;
    const started = process.hrtime.bigint();
    const nodeOptions = [this.env.NODE_OPTIONS, extraEnv.NODE_OPTIONS, this.preload()].filter(Boolean).join(" ");
    const env = { ...this.compileCache(), ...this.env, ...extraEnv, ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}) };
    const child = spawn(command, full, { cwd: this.cwd, env, stdio: ["ignore", out, out] });
    fs.closeSync(out);
    const tree = new ProcessTreeSampler(child.pid as number);
    const sampler = setInterval(() => tree.sample(), SAMPLE_MS);
    const code = await new Promise<number | NodeJS.Signals | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("exit", (c, signal) => resolve(c ?? signal));
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    clearInterval(sampler);
    const output = fs.readFileSync(logFile, "utf8").slice(from);
    if (typeof code !== "number" || !accept.includes(code)) {
      const tail = output.split("\n").slice(-40).join("\n");
      throw new Error(`${what} exited with ${code} (log ${logFile}):\n${tail}`);
    }
    return { seconds, ...treeFigures(tree.peaks()), output, code };
  }
}
