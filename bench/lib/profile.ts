// Reads the V8 CPU profiles (`node --cpu-prof`) a profiled benchmark run leaves and
// summarises where the time went: self time per function and per source area (our
// providers and client, the Pulumi SDK, gRPC, Node internals...).
import * as fs from "node:fs";
import * as path from "node:path";
import type { ProfileSummary } from "./types";

/**
 * The Node options that profile every Node process of a command into `dir` (`--cpu-prof`),
 * with `exit-on-signal.ts` preloaded: the engine stops the provider with a signal, and V8
 * writes a profile only on a normal exit.
 */
export function profilingNodeOptions(dir: string): string {
  return `--cpu-prof --cpu-prof-dir=${dir} --require ${path.join(__dirname, "exit-on-signal.js")}`;
}

/** The parts of a V8 .cpuprofile this reads. */
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
}

/** The area a script URL belongs to, for grouping. */
function areaOf(url: string): string {
  if (!url) return "(native/idle)";
  if (url.includes("/dist/providers/redfish/")) return "smartfleet redfish client";
  if (url.includes("/dist/providers/")) return "smartfleet providers";
  if (url.includes("/dist/schemas/")) return "smartfleet schemas (validation)";
  if (url.includes("/dist/")) return "smartfleet other";
  if (url.includes("node_modules/@grpc/")) return "grpc";
  if (url.includes("node_modules/google-protobuf") || url.includes("node_modules/protobufjs")) return "protobuf";
  if (url.includes("node_modules/@pulumi/pulumi/")) return "pulumi sdk";
  if (url.includes("node_modules/ajv")) return "ajv";
  if (url.includes("node_modules/")) return `npm ${(url.split("node_modules/").pop() as string).split("/")[0]}`;
  if (url.startsWith("node:")) return "node internals";
  return "other";
}

/** Self milliseconds per function and per area of one .cpuprofile file. */
export function summarise(file: string): ProfileSummary {
  const profile = JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const functions = new Map<string, number>();
  const areas = new Map<string, number>();
  let totalUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    if (frame.functionName === "(idle)" || frame.functionName === "(program)") continue;
    totalUs += us;
    const name = `${frame.functionName || "(anonymous)"} ${path.basename(frame.url || "")}:${frame.lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
    const area = frame.functionName === "(garbage collector)" ? "garbage collector" : areaOf(frame.url);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const ms = (entries: Map<string, number>, n: number) => Object.fromEntries([...entries].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => [k, Math.round(v / 1000)]));
  return { busyMs: Math.round(totalUs / 1000), byArea: ms(areas, 12), topFunctions: ms(functions, 15) };
}

/** Summaries of every profile in `dir` whose process ran the dynamic-provider host (found by its own frames). */
export function summariseDir(dir: string): Array<ProfileSummary & { file: string; role: string }> {
  if (!fs.existsSync(dir)) return [];
  const out: Array<ProfileSummary & { file: string; role: string }> = [];
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith(".cpuprofile"))) {
    const file = path.join(dir, name);
    const text = fs.readFileSync(file, "utf8");
    const role = text.includes("dynamic-provider") ? "provider" : text.includes("run-pulumi") || text.includes("/cmd/run/") ? "program" : "other";
    out.push({ file: name, role, ...summarise(file) });
  }
  return out.sort((a, b) => b.busyMs - a.busyMs);
}
