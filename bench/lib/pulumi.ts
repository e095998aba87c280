// Runs the real Pulumi CLI for one scenario, timed end to end, while sampling the peak
// resident memory of the dynamic-provider process(es) it starts.
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";

/** User + system CPU seconds a process has used so far (/proc/<pid>/stat, clock ticks of 1/100 s). */
export function cpuSecondsOf(pid: number | string): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * Peak RSS (VmHWM, MiB) and CPU seconds so far of every live process that runs the dynamic-provider host with
 * its working directory under `under` (other people's Pulumi runs on the machine are not ours).
 */
export function providerPeaks(under: string): Map<string, { rssMiB: number; cpuSeconds: number }> {
  const peaks = new Map<string, { rssMiB: number; cpuSeconds: number }>();
  for (const pid of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (!cmdline.includes("dynamic-provider")) continue;
      if (!fs.readlinkSync(`/proc/${pid}/cwd`).startsWith(under)) continue;
      const hwm = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
      if (hwm) peaks.set(pid, { rssMiB: Number(hwm[1]) / 1024, cpuSeconds: cpuSecondsOf(pid) });
    } catch {
      // the process ended between listing and reading: nothing to sample
    }
  }
  return peaks;
}

/** A Pulumi command a scenario runs. */
export type PulumiOperation = "up" | "preview" | "refresh" | "destroy";

/** What one timed command measured. */
export interface TimedRun {
  seconds: number;
  providerPeakRssMiB: number | null;
  providerCpuSeconds: number | null;
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
      refresh: ["refresh", "--yes", "--skip-preview", "--expect-no-changes"],
      destroy: ["destroy", "--yes", "--skip-preview"],
    } as Record<string, string[] | undefined>)[operation];
    if (!args) throw new Error(`unknown pulumi operation ${operation}`);
    const full = [...args, ...extra, "--stack", this.stack, "--non-interactive", "--parallel", String(this.parallel)];
    return this.timedCommand("pulumi", full, `pulumi ${operation}`, logFile, extraEnv);
  }

  /**
   * Runs `smartfleet plan --stack <stack> --format json` of the project's build (which
   * runs its preview through the Automation API with this runner's backend and
   * passphrase), timed like `timed`; the plan goes to `outFile`. `accept` lists the exit
   * codes that are not failures (plan exits 1 for a policy error, with the plan written).
   */
  async timedPlan(outFile: string, logFile: string, extraEnv: Record<string, string> = {}, accept: readonly number[] = [0]): Promise<TimedRun & { code: number }> {
    const main = `${this.cwd}/dist/cli/main.js`;
    const args = [main, "plan", "--stack", this.stack, "--cwd", this.cwd, "--format", "json", "--out", outFile];
    return this.timedCommand(process.execPath, args, "smartfleet plan", logFile, extraEnv, accept);
  }

  /** Spawns `command` in the project, timed from spawn to exit, sampling the provider processes it starts. */
  private async timedCommand(command: string, full: string[], what: string, logFile: string, extraEnv: Record<string, string>, accept: readonly number[] = [0]): Promise<TimedRun & { code: number }> {
    const out = fs.openSync(logFile, "a");
    fs.writeSync(out, `\n$ ${command === "pulumi" ? "pulumi" : "node"} ${full.join(" ")}\n`);
    const peaks = new Map<string, { rssMiB: number; cpuSeconds: number }>();
    const sample = () => {
      for (const [pid, seen] of providerPeaks(this.cwd)) {
        const before = peaks.get(pid);
        peaks.set(pid, { rssMiB: Math.max(before?.rssMiB ?? 0, seen.rssMiB), cpuSeconds: Math.max(before?.cpuSeconds ?? 0, seen.cpuSeconds) });
      }
    };
    const started = process.hrtime.bigint();
    const child = spawn(command, full, { cwd: this.cwd, env: { ...this.env, ...extraEnv }, stdio: ["ignore", out, out] });
    fs.closeSync(out);
    const sampler = setInterval(sample, 200);
    const code = await new Promise<number | NodeJS.Signals | null>((resolve, reject) => {
      child.on("error", reject);
      child.on("exit", (c, signal) => resolve(c ?? signal));
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    clearInterval(sampler);
    if (typeof code !== "number" || !accept.includes(code)) {
      const tail = fs.readFileSync(logFile, "utf8").split("\n").slice(-40).join("\n");
      throw new Error(`${what} exited with ${code} (log ${logFile}):\n${tail}`);
    }
    // Several provider processes at once (one per plugin instance) add up; take the largest sum seen.
    const providerPeakRssMiB = peaks.size === 0 ? null : Math.round([...peaks.values()].reduce((a, b) => a + b.rssMiB, 0) * 10) / 10;
    // CPU up to the last sample (at most 200 ms before the provider exited).
    const providerCpuSeconds = peaks.size === 0 ? null : Math.round([...peaks.values()].reduce((a, b) => a + b.cpuSeconds, 0) * 100) / 100;
    return { seconds, providerPeakRssMiB, providerCpuSeconds, code };
  }
}
