import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "@pulumi/pulumi/automation";
import type { RunningEmulator } from "../../emulator";
import type { DpuState } from "../../emulator/model";
import { RedfishClient } from "../../providers/redfish";
import { repoRoot } from "../support/pulumi";
import { admin, drift, editStackFile, endpointsFileOf, fleetState, labStack, makeLabProject, setFaults, clearFaults, startLabEmulator, type LabProject } from "./lab";

/** What a plan run printed and returned. */
interface PlanRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `smartfleet plan` as a user runs it, against the emulated lab fleet after an `up`: the
 * real CLI (a child process) driving the real Pulumi CLI, reading the real ports. Every
 * run is checked to have changed nothing on the hardware: the state dumps are the same
 * (sessions aside) and the emulator's disruption log stays empty.
 */
describe("smartfleet plan against the emulated lab fleet", () => {
  let project: LabProject;
  let emulator: RunningEmulator;
  let stack: Stack;
  const original = (): string => fs.readFileSync(path.join(repoRoot, "stacks", "lab.yaml"), "utf8");

  /** Runs `smartfleet plan --stack plan --cwd <project> ...args`. */
  const plan = (args: string[], stackName = "plan"): Promise<PlanRun> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [path.join(repoRoot, "cli", "bin", "smartfleet.js"), "plan", "--stack", stackName, "--cwd", project.workDir, ...args],
        { env: { ...process.env, ...project.sandbox.envVars, SMARTFLEET_ROOT: repoRoot }, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  /** The fleet as the hardware holds it, without what a read may change (sessions, counters). */
  const hardware = async (): Promise<Record<string, Omit<DpuState, "sessions" | "generation" | "nextId" | "accounts">>> => {
    const states = await fleetState(emulator);
    return Object.fromEntries(
      Object.entries(states).map(([serial, s]) => {
        const { sessions, generation, nextId, accounts, ...rest } = s;
        void sessions, void generation, void nextId, void accounts;
        return [serial, rest];
      }),
    );
  };

  /** Runs `work` and checks that the fleet is as before and logged no disruption. */
  const changesNothing = async <T>(work: () => Promise<T>): Promise<T> => {
    await admin(emulator, "DELETE", "/admin/v1/disruptions");
    const before = await hardware();
    const result = await work();
    expect(await hardware()).toEqual(before);
    expect(await admin(emulator, "GET", "/admin/v1/disruptions")).toEqual([]);
    return result;
  };

  beforeAll(async () => {
    project = await makeLabProject("127.208.0");
    emulator = await startLabEmulator(project);
    stack = await labStack(project, "plan", endpointsFileOf(project), { callTimeoutSeconds: 5 });
    const up = await stack.up({ parallel: 32 });
    expect(up.summary.result).toBe("succeeded");
  });

  afterAll(async () => {
    await emulator?.stop();
    project?.cleanup();
  });

  it("plans a firmware and DPU OS rollout: per host operations, groups, order and the witness switch-over, nothing touched", async () => {
    fs.writeFileSync(
      project.stackFile,
      fs.readFileSync(project.stackFile, "utf8")
        .replace(/(esx-0[12]:\n    os: [^\n]*\n    smartnics:\n      nic1:\n        mode: dpu\n        hostPrivilege: restricted\n)/g, '$1        firmware: "32.43.1014"\n')
        .replace(/esxi-arm, version: "8.0.3", hostname: (esx-0[34]-nic1)/g, 'esxi-arm, version: "8.0.4-rc1", hostname: $1'),
    );
    const out = path.join(project.sandbox.dir, "plan.json");
    const run = await changesNothing(() => plan(["--format", "json", "--out", out]));
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const json = JSON.parse(fs.readFileSync(out, "utf8"));
    expect(json.stack).toBe("lab");
    const byHost = Object.fromEntries(json.hosts.map((h: { host: string }) => [h.host, h]));
    expect(Object.keys(byHost)).toEqual(["esx-01", "esx-02", "esx-03", "esx-04"]);
    const nicFirmware = (await fleetState(emulator))[project.serials["esx-01/nic1"]].firmware.nic;
    expect(byHost["esx-01"]).toMatchObject({ group: "cluster:east", disruption: "dpu-reboot", order: 1, operations: [{ resource: "esx-01-nic1", kind: "dpu-reboot", from: nicFirmware, to: "32.43.1014" }] });
    expect(byHost["esx-01"].failovers).toEqual(["planned switch-over of witness to secondary (esx-02/nic1)"]);
    expect(byHost["esx-02"]).toMatchObject({ group: "cluster:east", disruption: "dpu-reboot", order: 2 });
    expect(byHost["esx-03"]).toMatchObject({ group: "cluster:(none)", order: 1, operations: [{ resource: "esx-03-nic1-os", kind: "dpu-reboot", from: "esxi-arm 8.0.3", to: "esxi-arm 8.0.4-rc1" }] });
    expect(byHost["esx-04"]).toMatchObject({ group: "cluster:(none)", order: 2 });
    // One host at a time per group; the estimate ends with the last host's window.
    expect(byHost["esx-02"].start).toBe(byHost["esx-01"].end);
    expect(byHost["esx-04"].start).toBe(byHost["esx-03"].end);
    expect(json.estimateSeconds).toBe(Math.max(...json.hosts.map((h: { end: number }) => h.end)));
    expect(json.violations).toEqual([]);

    // The pair's active side is read from its primary's port, not taken from the state.
    await drift(emulator, project.serials["esx-01/nic1"], { kind: "failover", id: "witness" });
    try {
      const failedOver = await plan(["--format", "json"]);
      expect(failedOver.code).toBe(0);
      expect(JSON.parse(failedOver.stdout).hosts.find((h: { host: string }) => h.host === "esx-01").failovers).toEqual(["witness runs unprotected on secondary (esx-02/nic1) while esx-01 is down"]);
    } finally {
      // Back to its primary as an operator would, which also ends the emulator's record of the pair running unprotected.
      const port = emulator.endpoints.dpus.find((d) => d.serial === project.serials["esx-01/nic1"]);
      const client = RedfishClient.open({ url: port?.url ?? "", caPem: emulator.caPem, username: port?.factoryUsername ?? "", password: project.managementPassword });
      await client.patch("/redfish/v1/Oem/SmartFleet/ServicePairs/witness", { ActiveSide: "primary" }).finally(() => client.close());
      await admin(emulator, "DELETE", "/admin/v1/disruptions");
    }
  });

  it("--fail-on: exits 1 for a kind the plan contains, 0 for one it does not; text on stdout", async () => {
    const hit = await changesNothing(() => plan(["--fail-on", "host-power-cycle,pair-unprotected"]));
    expect(hit.code).toBe(1);
    expect(hit.stderr).toContain("--fail-on pair-unprotected: service pair witness is unprotected while esx-01 is disrupted");
    expect(hit.stdout).toMatch(/^total: .* \(\d+ s\)$/m);
    // One resource operation at a time: the same plan, more slowly.
    const clear = await plan(["--fail-on", "host-power-cycle,host-os-install,workload-outage", "--parallel", "1"]);
    expect(clear.code).toBe(0);
  });

  it("sees drift the state does not hold (the port is read while the preview runs), as --refresh does through the engine", async () => {
    fs.writeFileSync(project.stackFile, original());
    const serial = project.serials["esx-04/nic1"];
    await drift(emulator, serial, { kind: "hostPrivilege", value: "privileged" });
    try {
      const expected = [{ resource: "esx-04-nic1", resourceKind: "SmartNic", step: "update", property: "hostPrivilege", kind: "dpu-reboot", from: "privileged", to: "restricted" }];
      for (const args of [[], ["--refresh"]]) {
        const run = await changesNothing(() => plan(["--format", "json", ...args]));
        expect(run.code, `${args.join(" ")}: ${run.stderr}`).toBe(0);
        const hosts = JSON.parse(run.stdout).hosts as Array<{ host: string; operations: unknown[] }>;
        expect(hosts.find((h) => h.host === "esx-04")?.operations, args.join(" ")).toEqual(expected);
        expect(hosts.filter((h) => h.host !== "esx-04").flatMap((h) => h.operations), args.join(" ")).toEqual([]);
      }
    } finally {
      await drift(emulator, serial, { kind: "hostPrivilege", value: "restricted" });
    }
  });

  it("reports SF008 before anything is touched: a DPU put back to its factory mode with allowHostPowerCycle false", async () => {
    // esx-03/nic1 ships in NIC mode (so `smartfleet check` and CrossGuard, which compare with the
    // factory state, see no change) and is in DPU mode since the up: the port says the truth.
    fs.writeFileSync(project.stackFile, original().replace("inventory: ../examples/lab/fleet.yaml", "inventory: ../examples/lab/fleet.yaml"));
    editStackFile(project, (doc) => {
      doc.setIn(["maintenance", "allowHostPowerCycle"], false);
      doc.setIn(["hosts", "esx-03", "smartnics", "nic1", "mode"], "nic");
      doc.deleteIn(["hosts", "esx-03", "smartnics", "nic1", "services"]);
    });
    const run = await changesNothing(() => plan(["--format", "json"]));
    expect(run.code).toBe(1);
    const json = JSON.parse(run.stdout);
    expect(json.violations).toEqual([
      { rule: "SF008", severity: "error", message: "esx-03/nic1 changes mode dpu → nic (its port reports dpu now), which power-cycles host esx-03, but maintenance.allowHostPowerCycle is false" },
    ]);
    expect(json.hosts.find((h: { host: string }) => h.host === "esx-03")).toMatchObject({ disruption: "host-power-cycle", operations: expect.arrayContaining([expect.objectContaining({ resource: "esx-03-nic1", kind: "host-power-cycle", from: "dpu", to: "nic" })]) });
    expect(run.stderr).toContain("policy error SF008: esx-03/nic1 changes mode dpu → nic");
    // A plain preview (what `pulumi up` runs first) fails too: the provider refuses the change at diff time.
    const preview = await stack.preview({ refresh: true }).then(
      () => "succeeded",
      (error: Error) => error.message,
    );
    expect(preview).toMatch(/SmartNic esx-03\/nic1 .*diff failed: the DPU is in dpu mode and the stack asks for nic mode.*allowHostPowerCycle: true/);
    // The DPU is still in DPU mode, nothing pending: no reboot, no power cycle happened.
    expect((await fleetState(emulator))[project.serials["esx-03/nic1"]].bios).toMatchObject({ mode: "dpu", pending: {}, modeAwaitingHostCycle: null });
  });

  it("leaves the user's selected stack as it was", async () => {
    const pulumi = (...args: string[]): string =>
      execFileSync("pulumi", [...args, "--non-interactive"], { cwd: project.workDir, env: { ...process.env, ...project.sandbox.envVars }, encoding: "utf8" }).trim();
    pulumi("stack", "init", "someone-elses");
    try {
      expect(pulumi("stack", "--show-name")).toBe("someone-elses");
      const run = await plan(["--format", "json"]);
      expect(run.stderr).not.toMatch(/cannot open/);
      expect(JSON.parse(run.stdout).stack).toBe("lab");
      expect(pulumi("stack", "--show-name")).toBe("someone-elses");
    } finally {
      pulumi("stack", "rm", "--yes", "someone-elses");
    }
  });

  it("exits 2 naming the stack when it does not exist", async () => {
    const run = await plan([], "no-such-stack");
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/cannot open stack 'no-such-stack'/);
  });

  it("exits 2 naming a stack file it cannot read, and stops the preview it had started meanwhile", async () => {
    const configured = await stack.getConfig("smartfleet:stackFile");
    await stack.setConfig("smartfleet:stackFile", { value: "stacks/no-such-file.yaml" });
    try {
      const run = await plan([]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/no-such-file\.yaml/);
      const previews = execFileSync("ps", ["-eo", "args"], { encoding: "utf8" })
        .split("\n")
        .filter((line) => /\bpulumi preview\b.*--stack \S*\bplan\b/.test(line));
      expect(previews, "no preview of the stack is left running").toEqual([]);
    } finally {
      await stack.setConfig("smartfleet:stackFile", configured);
    }
  });

  it("exits 2 naming the host and URL of a management port that does not answer", async () => {
    fs.writeFileSync(project.stackFile, original());
    const serial = project.serials["esx-04/nic1"];
    await setFaults(emulator, serial, { portDown: true });
    try {
      const run = await plan([]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(`esx-04/nic1 (${serial}) at https://127.208.0.5:8443`);
    } finally {
      await clearFaults(emulator, serial);
    }
  });
});
