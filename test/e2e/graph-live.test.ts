import { execFile } from "node:child_process";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../emulator";
import { repoRoot } from "../support/pulumi";
import { admin, drift, endpointsFileOf, labStack, makeLabProject, setFaults, startLabEmulator, type LabProject } from "./lab";

/** What a graph run printed and returned. */
interface GraphRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `smartfleet graph --live` as a user runs it, in the project, against the emulated lab
 * fleet after an `up`: the real CLI (a child process) reading the stack's configuration
 * through the real Pulumi CLI and each port once. Converged after the up; out-of-band
 * drift and a port that stops answering show on the boxes they concern, and reading
 * changes nothing on the hardware.
 */
describe("smartfleet graph --live against the emulated lab fleet", () => {
  let project: LabProject;
  let emulator: RunningEmulator;

  const graph = (args: string[]): Promise<GraphRun> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [path.join(repoRoot, "dist", "cli", "main.js"), "graph", project.stackFile, "--live", "--stack", "graph", ...args],
        { cwd: project.workDir, env: { ...process.env, ...project.sandbox.envVars, SMARTFLEET_ROOT: repoRoot }, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  /** Each box's `data-id` → its classes (kind and state) in an SVG drawn by graph. */
  const boxes = (svg: string): Map<string, string> => new Map([...svg.matchAll(/<g class="node ([^"]+)" data-id="([^"]+)">/g)].map((m) => [m[2], m[1]]));

  beforeAll(async () => {
    project = await makeLabProject("127.217.0");
    emulator = await startLabEmulator(project);
    const stack = await labStack(project, "graph", endpointsFileOf(project), { callTimeoutSeconds: 5 });
    const up = await stack.up({ parallel: 32 });
    expect(up.summary.result).toBe("succeeded");
  });

  afterAll(async () => {
    await emulator?.stop();
    project?.cleanup();
  });

  it("after an up: every managed box converged, the unmanaged DPU as such, one request per port, no disruption", async () => {
    await admin(emulator, "DELETE", "/admin/v1/disruptions");
    const run = await graph([]);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("smartfleet graph: read 5 DPUs with 5 requests\n");
    const states = boxes(run.stdout);
    expect(states.get("dpu:esx-04/nic2")).toBe("dpu unmanaged");
    const managed = [...states].filter(([id]) => !id.startsWith("cluster:") && !id.startsWith("accelerator:") && id !== "dpu:esx-04/nic2");
    expect(managed.length).toBe(19);
    expect(managed.filter(([, classes]) => !classes.endsWith(" converged"))).toEqual([]);
    expect(await admin(emulator, "GET", "/admin/v1/disruptions")).toEqual([]);
  });

  it("shows drift field by field on the box it concerns, and a port that does not answer as unreachable", async () => {
    await drift(emulator, project.serials["esx-02/nic1"], { kind: "mode", value: "nic" });
    await setFaults(emulator, project.serials["esx-04/nic1"], { portDown: true });
    const run = await graph(["--format", "svg"]);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain("not read: esx-04/nic1 (unreachable)");
    const states = boxes(run.stdout);
    expect(states.get("dpu:esx-02/nic1")).toBe("dpu drifted");
    expect(run.stdout).toContain(">mode nic, not dpu</text>");
    expect(states.get("dpu:esx-04/nic1")).toBe("dpu unreachable");
    expect(states.get("service:esx-04/nic1/ids")).toBe("service unreachable");
    expect(states.get("host:esx-04")).toBe("host unreachable");
    expect(states.get("dpu:esx-01/nic1")).toBe("dpu converged");
  });
});
