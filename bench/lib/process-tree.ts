// Peak memory and CPU of every process a timed command starts, found as descendants of the
// command in /proc (not by working directory or name across the machine, where other
// people's Pulumi runs are not ours). Sampled: the engine stops the dynamic-provider
// process with a signal when a command ends, so nobody is left to read its VmHWM at exit.
// VmHWM is the kernel's own high-water mark of the resident set, so a sample misses only
// what a process grew in its last interval before it ended (at most ~250 ms of growth).
import * as fs from "node:fs";
import * as path from "node:path";
import { cpuSecondsOf } from "./cpu";

/** What a process is to the benchmark: the Pulumi engine (`pulumi` CLI), a dynamic-provider host, or anything else. */
export type ProcessRole = "engine" | "provider" | "other";

/** The peak seen of one process of the tree. */
export interface ProcessPeak {
  pid: number;
  role: ProcessRole;
  /** The command line's first two words (for the notes: which process it was). */
  command: string;
  /** VmHWM in MiB: the largest resident set the process had, by the kernel's count. */
  hwmMiB: number;
  /** User + system CPU seconds at the last sample. */
  cpuSeconds: number;
}

/** The role of a process from its command line (`/proc/<pid>/cmdline`, NUL-separated). */
export function roleOf(argv: readonly string[]): ProcessRole {
  // The dynamic-provider host is `node .../@pulumi/pulumi/cmd/dynamic-provider/index.js`.
  if (argv.some((a) => a.includes("dynamic-provider"))) return "provider";
  return argv.length > 0 && path.basename(argv[0]) === "pulumi" ? "engine" : "other";
}

/** Parent of every live process (`/proc/<pid>/stat`'s fourth field). */
function parents(): Map<number, number> {
  const parentOf = new Map<number, number>();
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      // The command name in parentheses may hold spaces: the fields start after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parentOf.set(Number(name), ppid);
    } catch {
      // gone between listing and reading
    }
  }
  return parentOf;
}

/** The live descendants of `root` (not `root` itself). */
export function descendantsOf(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, ppid] of parents()) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const found: number[] = [];
  const queue = [...(children.get(root) ?? [])];
  while (queue.length) {
    const pid = queue.shift() as number;
    found.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return found;
}

/** VmHWM (KiB) of a live process, or undefined when it is gone or has no memory (a zombie). */
function hwmKiB(pid: number): number | undefined {
  const match = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
  return match ? Number(match[1]) : undefined;
}

/**
 * Follows the process tree of one command: `sample()` reads every descendant's VmHWM,
 * CPU and command line (read again each time: a wrapper may exec the real program), and
 * keeps the largest seen per process; `peaks()` gives them. A process seen once stays in
 * the list after it ends or is re-parented (the engine's children outlive it briefly).
 */
export class ProcessTreeSampler {
  private readonly seen = new Map<number, ProcessPeak>();

  constructor(private readonly root: number) {}

  /** One sample of the command and its descendants. */
  sample(): void {
    for (const pid of [this.root, ...descendantsOf(this.root)]) {
      try {
        const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
        const kib = hwmKiB(pid);
        if (kib === undefined) continue;
        const before = this.seen.get(pid);
        this.seen.set(pid, {
          pid,
          role: roleOf(argv),
          command: argv.slice(0, 2).map((a) => path.basename(a)).join(" "),
          hwmMiB: Math.max(before?.hwmMiB ?? 0, kib / 1024),
          cpuSeconds: Math.max(before?.cpuSeconds ?? 0, cpuSecondsOf(pid)),
        });
      } catch {
        // ended between listing and reading: its last sample stands
      }
    }
  }

  /** The peak of every process seen so far. */
  peaks(): ProcessPeak[] {
    return [...this.seen.values()];
  }
}

/** What a timed command's processes used, from their peaks. */
export interface TreeFigures {
  /** Sum over the provider processes of each one's peak (as before: one process per command without shards). */
  providerPeakRssMiB: number | null;
  /** The largest single provider process's peak (with shards: the largest among all shards' providers). */
  largestProviderPeakRssMiB: number | null;
  /** The largest single `pulumi` engine process's peak (with shards: one engine per shard). */
  enginePeakRssMiB: number | null;
  /** Provider processes seen. */
  providerProcesses: number;
  /** CPU of the provider processes up to their last sample. */
  providerCpuSeconds: number | null;
}

const round = (v: number, places: number) => Math.round(v * 10 ** places) / 10 ** places;

/** The figures of a command from its processes' peaks. */
export function treeFigures(peaks: readonly ProcessPeak[]): TreeFigures {
  const providers = peaks.filter((p) => p.role === "provider");
  const engines = peaks.filter((p) => p.role === "engine");
  const none = providers.length === 0;
  return {
    providerPeakRssMiB: none ? null : round(providers.reduce((a, p) => a + p.hwmMiB, 0), 1),
    largestProviderPeakRssMiB: none ? null : round(Math.max(...providers.map((p) => p.hwmMiB)), 1),
    enginePeakRssMiB: engines.length === 0 ? null : round(Math.max(...engines.map((p) => p.hwmMiB)), 1),
    providerProcesses: providers.length,
    providerCpuSeconds: none ? null : round(providers.reduce((a, p) => a + p.cpuSeconds, 0), 2),
  };
}
