// The process-tree sampler against real processes: a child that starts a grandchild which
// grows to a known resident size, and the parsers of what the preview commands print.
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { descendantsOf, ProcessTreeSampler, roleOf, treeFigures } from "../../bench/lib/process-tree";
import { pulumiPreviewChanges, smartfleetPartRows } from "../../bench/lib/preview-output";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// The grandchild touches 80 MiB (so it is resident), says so, then waits to be killed.
const GRANDCHILD = `const b = Buffer.alloc(80 * 1024 * 1024, 1); console.log("ready " + b[0]); setInterval(() => {}, 1000);`;
// The child starts it with the provider host's path in its command line, as the engine
// starts the dynamic-provider host; the child's own script spells it in two pieces so
// that only the grandchild's command line holds it.
const CHILD = `const { spawn } = require("node:child_process");
const g = spawn(process.execPath, ["-e", ${JSON.stringify(GRANDCHILD)}, "cmd/dynamic-" + "provider/index.js"], { stdio: ["ignore", "inherit", "inherit"] });
process.on("SIGTERM", () => { g.kill("SIGKILL"); process.exit(0); });
setInterval(() => {}, 1000);`;

describe("the process-tree sampler", () => {
  it("finds a grandchild of the command and keeps its peak resident memory after it is gone", async () => {
    const child = spawn(process.execPath, ["-e", CHILD], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      await new Promise<void>((resolve) => child.stdout.on("data", (d: Buffer) => d.toString().includes("ready") && resolve()));
      const sampler = new ProcessTreeSampler(child.pid as number);
      sampler.sample();
      const descendants = descendantsOf(child.pid as number);
      expect(descendants).toHaveLength(1);
      const provider = sampler.peaks().find((p) => p.role === "provider");
      expect(provider?.pid).toBe(descendants[0]);
      expect(provider?.hwmMiB).toBeGreaterThan(80);
      child.kill("SIGTERM");
      await new Promise((resolve) => child.on("exit", resolve));
      await sleep(100);
      sampler.sample(); // both gone: the peaks seen stay
      const figures = treeFigures(sampler.peaks());
      expect(figures.providerProcesses).toBe(1);
      expect(figures.largestProviderPeakRssMiB).toBeGreaterThan(80);
      expect(figures.largestProviderPeakRssMiB).toBeLessThan(400);
      expect(figures.enginePeakRssMiB).toBeNull();
    } finally {
      // A failed expectation leaves both running: the grandchild first, it would outlive its parent.
      for (const pid of descendantsOf(child.pid as number)) process.kill(pid, "SIGKILL");
      child.kill("SIGKILL");
    }
  }, 30_000);

  it("tells the engine and the provider host from the rest by their command lines", () => {
    expect(roleOf(["/opt/pulumi/bin/pulumi", "up", "--yes"])).toBe("engine");
    expect(roleOf(["node", "/p/node_modules/@pulumi/pulumi/cmd/dynamic-provider/index.js"])).toBe("provider");
    expect(roleOf(["/opt/pulumi/bin/pulumi-language-nodejs", "127.0.0.1:4000"])).toBe("other");
    expect(roleOf([])).toBe("other");
  });

  it("adds provider peaks up, and takes the largest provider and the largest engine on their own", () => {
    const peak = (pid: number, role: "engine" | "provider" | "other", hwmMiB: number) => ({ pid, role, command: "x", hwmMiB, cpuSeconds: 1 });
    expect(treeFigures([peak(1, "engine", 90), peak(2, "engine", 120), peak(3, "provider", 100), peak(4, "provider", 150.04), peak(5, "other", 999)])).toEqual({
      providerPeakRssMiB: 250,
      largestProviderPeakRssMiB: 150,
      enginePeakRssMiB: 120,
      providerProcesses: 2,
      providerCpuSeconds: 2,
    });
    expect(treeFigures([])).toMatchObject({ providerPeakRssMiB: null, largestProviderPeakRssMiB: null, enginePeakRssMiB: null, providerProcesses: 0 });
  });
});

describe("what the previews print", () => {
  it("counts the changes of pulumi preview's Resources summary, not the unchanged", () => {
    const text = "Previewing update (bench-72):\n ~  smartfleet:DpuService esx-0019-nic2-dfw update [diff: ~version]\nResources:\n    ~ 1 to update\n    +-2 to replace\n    512 unchanged\n";
    expect(pulumiPreviewChanges(text)).toBe(3);
    expect(pulumiPreviewChanges("Resources:\n    515 unchanged\n")).toBe(0);
  });

  it("reads smartfleet's summary table of a sharded command", () => {
    const text = [
      "[  3.1s] rack-5       preview done in 3.0s: 1 to change, 63 unchanged",
      "shard        result  to change  unchanged  failed  time  note",
      "rack-5       ok              1         63       0  3.0s",
      "cross-shard  skipped         -          -       -     -  a shard failed",
      "",
    ].join("\n");
    expect(smartfleetPartRows(text)).toEqual([
      { part: "rack-5", status: "ok", changed: 1, unchanged: 63, failed: 0 },
      { part: "cross-shard", status: "skipped", changed: null, unchanged: null, failed: null },
    ]);
    expect(smartfleetPartRows("no table here")).toEqual([]);
  });
});
