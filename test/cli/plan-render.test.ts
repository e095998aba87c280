import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resourceDeclarations } from "../../model/declarations";
import { loadStackSync, type LoadedStack } from "../../model/load";
import { buildPlan, failOnHits, planExitCode, type PlanInput, type PreviewStep } from "../../policies/plan/plan";
import { renderPlan } from "../../policies/plan/render";
import { changedKeys, digestErrors, metadataOfDigestStep, StepCollector, withUnchanged } from "../../cli/plan/collect";

const root = path.resolve(__dirname, "..", "..");
const golden = path.join(root, "test", "fixtures", "plan");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sf-plan-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** The rollout the golden plans are computed with, given explicitly so that they do not move with the lab stack's own rollout settings. */
const ROLLOUT = "rollout: { maxUnavailable: 1, groupBy: cluster, healthGate: { settleSeconds: 30, timeoutSeconds: 600 } }\n";

/** stacks/lab.yaml with its rollout replaced by ROLLOUT and `edit` applied to its text, loaded (the inventory is the lab's own). */
function labStack(edit: (text: string) => string = (t) => t, name = "lab.yaml"): LoadedStack {
  const lab = fs.readFileSync(path.join(root, "stacks", "lab.yaml"), "utf8").replace("inventory: ../examples/lab/fleet.yaml", `inventory: ${path.join(root, "examples", "lab", "fleet.yaml")}`);
  const text = lab.replace(/^rollout:.*(\n[ #].*)*\n?/m, "") + ROLLOUT;
  const file = path.join(tmp, name);
  fs.writeFileSync(file, edit(text));
  return loadStackSync(file);
}

/**
 * The lab after an `up`, then a rollout: NIC firmware 32.41.1000 → 32.43.1014 on both
 * BlueField-3 DPUs of the east cluster (esx-01/nic1, esx-02/nic1), and the DPU OS
 * esxi-arm 8.0.3 → 8.0.4-rc1 on the DPUs whose hosts run no ESXi (esx-03/nic1,
 * esx-04/nic1; on esx-01 and esx-02 SF005 keeps DPU and host ESXi in lockstep).
 */
function labRolloutInput(): PlanInput {
  const stack = labStack((t) =>
    t
      .replace(/(esx-0[12]:\n    os: [^\n]*\n    smartnics:\n      nic1:\n        mode: dpu\n        hostPrivilege: restricted\n)/g, '$1        firmware: "32.43.1014"\n')
      .replace(/esxi-arm, version: "8.0.3", hostname: (esx-0[34]-nic1)/g, 'esxi-arm, version: "8.0.4-rc1", hostname: $1'),
  );
  return { stack, steps: afterUp(stack, { "esx-01-nic1": "32.41.1000", "esx-02-nic1": "32.41.1000" }), live: {} };
}

/** The preview's steps of a stack that was `up`-ed at the lab's stack and is now changed as `stack` says. */
function afterUp(stack: LoadedStack, oldFirmware: Record<string, string> = {}, liveModes: Record<string, "dpu" | "nic"> = {}): PreviewStep[] {
  return resourceDeclarations(stack).map((d): PreviewStep => {
    const inputs = d.inputs as unknown as Record<string, unknown>;
    if (d.kind === "SmartNic") {
      const id = `${d.inputs.target.host}/${d.inputs.target.smartnic}`;
      const mode = liveModes[id] ?? "dpu";
      const changes = [];
      if (oldFirmware[d.name] && d.inputs.firmware) changes.push({ property: "firmware", from: oldFirmware[d.name], to: d.inputs.firmware });
      if (mode !== d.inputs.mode) changes.push({ property: "mode", from: mode, to: d.inputs.mode });
      return { name: d.name, step: changes.length ? "update" : "same", changes, olds: { ...inputs, mode, ...(oldFirmware[d.name] ? { firmware: oldFirmware[d.name] } : {}) } };
    }
    if (d.kind === "DpuOs" && d.inputs.version !== "8.0.3") {
      return {
        name: d.name,
        step: "update",
        changes: [
          { property: "version", from: "8.0.3", to: d.inputs.version },
          { property: "uri", from: "http://images.lab/esxi-arm-8.0.3.bfb", to: d.inputs.uri },
          { property: "sha256", from: "d27865cd18cc5308e3d9107466eb17c82a873061f95349394745a0bb8f00f493", to: d.inputs.sha256 },
        ],
        olds: { ...inputs, version: "8.0.3" },
      };
    }
    if (d.kind === "ServicePair") return { name: d.name, step: "same", changes: [], olds: { ...inputs, activeSide: "primary", protected: true } };
    return { name: d.name, step: "same", changes: [], olds: inputs };
  });
}

const FORMATS = { txt: "text", md: "markdown", json: "json", svg: "svg" } as const;

describe("smartfleet plan: rendering the lab rollout (golden files)", () => {
  const plan = buildPlan(labRolloutInput());

  for (const [ext, format] of Object.entries(FORMATS)) {
    it(`renders ${format} as test/fixtures/plan/lab.${ext}`, () => {
      const out = renderPlan(plan, format);
      const file = path.join(golden, `lab.${ext}`);
      if (process.env.UPDATE_GOLDEN === "1") fs.writeFileSync(file, out);
      expect(out).toBe(fs.readFileSync(file, "utf8"));
    });
  }

  it("gives every host its operations, disruption, group and order; the east cluster one host at a time", () => {
    const json = JSON.parse(renderPlan(plan, "json"));
    expect(Object.keys(json)).toEqual(expect.arrayContaining(["stack", "hosts", "estimateSeconds", "violations"]));
    const byHost = Object.fromEntries(json.hosts.map((h: { host: string }) => [h.host, h]));
    expect(byHost["esx-01"]).toMatchObject({ group: "cluster:east", disruption: "dpu-reboot", order: 1, operations: [{ resource: "esx-01-nic1", kind: "dpu-reboot", from: "32.41.1000", to: "32.43.1014" }] });
    expect(byHost["esx-02"]).toMatchObject({ group: "cluster:east", disruption: "dpu-reboot", order: 2 });
    expect(byHost["esx-03"]).toMatchObject({ group: "cluster:(none)", disruption: "dpu-reboot", order: 1, operations: [{ resource: "esx-03-nic1-os", kind: "dpu-reboot", from: "esxi-arm 8.0.3", to: "esxi-arm 8.0.4-rc1" }] });
    expect(byHost["esx-04"]).toMatchObject({ group: "cluster:(none)", order: 2 });
    // esx-01 holds the witness pair's active side: a planned switch-over; esx-02 its standby.
    expect(byHost["esx-01"].failovers).toEqual(["planned switch-over of witness to secondary (esx-02/nic1)"]);
    expect(byHost["esx-02"].failovers[0]).toContain("witness runs unprotected on primary");
    // Two 300 s windows (90 s reboot + 180 s flash + 30 s settle) in east; two 510 s in (none), in parallel.
    expect(byHost["esx-02"].start).toBe(byHost["esx-01"].end);
    expect(json.estimateSeconds).toBe(1020);
    expect(json.violations).toEqual([]);
  });

  it("exits 1 for --fail-on kinds the plan contains and 0 otherwise", () => {
    expect(planExitCode(plan, [])).toBe(0);
    expect(planExitCode(plan, ["host-power-cycle", "host-os-install"])).toBe(0);
    expect(planExitCode(plan, ["dpu-reboot"])).toBe(1);
    expect(planExitCode(plan, ["pair-unprotected"])).toBe(1);
    expect(failOnHits(plan, ["pair-unprotected"])[0]).toMatch(/^pair-unprotected: service pair witness/);
    expect(planExitCode(plan, ["workload-outage", "maintenance", "service-restart"])).toBe(0);
  });

  it("SVG: one row per host, one bar per disrupted host, a legend, no external references", () => {
    const svg = renderPlan(plan, "svg");
    expect(svg.match(/class="host-row"/g)).toHaveLength(4);
    expect(svg.match(/class="bar"/g)).toHaveLength(4);
    expect(svg.match(/class="legend-item"/g)).toHaveLength(4);
    expect(svg).not.toMatch(/<script|href=|@import|url\(/);
  });
});

describe("smartfleet plan: policies against the live state", () => {
  it("SF008 compares a mode change with the live mode: back to the factory mode with no power cycle allowed is an error", () => {
    // esx-03/nic1 ships in NIC mode and is in DPU mode after the up; the stack takes it back to NIC mode.
    const stack = labStack(
      (t) =>
        t
          .replace("maintenance: { allowHostPowerCycle: true }", "maintenance: { allowHostPowerCycle: false }")
          .replace(/(  esx-03:\n    smartnics:\n      nic1:\n        mode: )dpu/, "$1nic")
          .replace(/\n        services:\n          fw: [^\n]*/, ""),
      "sf008.yaml",
    );
    const plan = buildPlan({ stack, steps: afterUp(stack), live: {} });
    expect(plan.violations).toEqual([
      { rule: "SF008", severity: "error", message: "esx-03/nic1 changes mode dpu → nic (its port reports dpu now), which power-cycles host esx-03, but maintenance.allowHostPowerCycle is false" },
    ]);
    expect(plan.hosts.find((h) => h.host === "esx-03")).toMatchObject({ disruption: "host-power-cycle", operations: expect.arrayContaining([{ resource: "esx-03-nic1", resourceKind: "SmartNic", step: "update", property: "mode", kind: "host-power-cycle", from: "dpu", to: "nic" }]) });
    expect(planExitCode(plan, [])).toBe(1);
  });

  it("a create reads the port: an adopted DPU whose live mode differs is a host power cycle", () => {
    const stack = labStack();
    const steps = afterUp(stack).map((s) => (s.name === "esx-04-nic1" ? { name: s.name, step: "create" as const, changes: [] } : s));
    const plan = buildPlan({ stack, steps, live: { "esx-04/nic1": { source: "port", mode: "nic", hostPrivilege: "restricted", firmware: null } } });
    expect(plan.hosts.find((h) => h.host === "esx-04")?.operations).toEqual([{ resource: "esx-04-nic1", resourceKind: "SmartNic", step: "create", property: "mode", kind: "host-power-cycle", from: "nic", to: "dpu" }]);
  });

  it("an update of a property the state does not hold (firmware not managed before) takes its `from` from the port", () => {
    const stack = labStack((t) => t.replace(/(  esx-03:\n    smartnics:\n      nic1:\n        mode: dpu\n)/, '$1        firmware: "1.72.0-E-3"\n'), "fw.yaml");
    const steps = afterUp(stack).map((s) => (s.name === "esx-03-nic1" ? { ...s, step: "update" as const, changes: [{ property: "firmware", to: "1.72.0-E-3" }] } : s));
    const plan = buildPlan({ stack, steps, live: { "esx-03/nic1": { source: "port", mode: "dpu", hostPrivilege: "restricted", firmware: "1.70.0-E-1" } } });
    expect(plan.hosts.find((h) => h.host === "esx-03")?.operations).toMatchObject([{ resource: "esx-03-nic1", property: "firmware", kind: "dpu-reboot", from: "1.70.0-E-1", to: "1.72.0-E-3" }]);
  });

  it("the port overrides the state for what it was read for: drift the state does not show is planned, a change already made is not", () => {
    const stack = labRolloutInput().stack;
    const steps = labRolloutInput().steps;
    const live = {
      // Unchanged in state; someone flipped its host privilege: the up puts it back (a reboot).
      "esx-04/nic1": { source: "port" as const, mode: "dpu" as const, hostPrivilege: "privileged" as const, firmware: null, dpuOs: { image: "esxi-arm", version: "8.0.4-rc1" } },
      // The state says 32.41.1000; the port runs the wanted 32.43.1014 already: no firmware operation.
      "esx-01/nic1": { source: "port" as const, mode: "dpu" as const, hostPrivilege: "restricted" as const, firmware: "32.43.1014" },
    };
    const plan = buildPlan({ stack, steps, live });
    const ops = (host: string) => plan.hosts.find((h) => h.host === host)?.operations;
    expect(ops("esx-04")).toEqual([{ resource: "esx-04-nic1", resourceKind: "SmartNic", step: "update", property: "hostPrivilege", kind: "dpu-reboot", from: "privileged", to: "restricted" }]);
    expect(ops("esx-01")).toEqual([]);
    expect(ops("esx-02")).toMatchObject([{ resource: "esx-02-nic1", property: "firmware", from: "32.41.1000", to: "32.43.1014" }]);
  });

  it("SF011: a pair with both sides in a host the rollout disrupts is an error; same group with a budget of 2 a warning", () => {
    const sameHost = labStack((t) => t.replace("secondary: esx-02/nic1", "secondary: esx-01/nic2").replace('version: "8.0.3", hostname: esx-01-nic2', 'version: "8.0.3", hostname: esx-01-nic2x'), "sf011.yaml");
    const steps = afterUp(sameHost).map((s) => (s.name === "esx-01-nic2-os" ? { ...s, step: "update" as const, changes: [{ property: "hostname", from: "esx-01-nic2", to: "esx-01-nic2x" }, { property: "version", from: "8.0.2", to: "8.0.3" }] } : s));
    const plan = buildPlan({ stack: sameHost, steps, live: {} });
    expect(plan.violations.filter((v) => v.rule === "SF011")).toEqual([
      { rule: "SF011", severity: "error", message: expect.stringMatching(/^the rollout disrupts host esx-01 \(from 0 s to 510 s\), which holds both sides of service pair witness/) },
    ]);
    expect(planExitCode(plan, [])).toBe(1);
    expect(failOnHits(plan, ["workload-outage"])).toHaveLength(1);

    const budget = labStack((t) => t.replace("maxUnavailable: 1", "maxUnavailable: 2"), "sf011b.yaml");
    const warned = buildPlan({ stack: budget, steps: afterUp(budget), live: {} });
    expect(warned.violations).toEqual([{ rule: "SF011", severity: "warning", message: expect.stringContaining("both in rollout group cluster:east whose budget lets 2 hosts down at once") }]);
    expect(planExitCode(warned, [])).toBe(0);
  });

  it("a pair's active side is the one its primary's port reports; the state's only when the port was not read", () => {
    const input = labRolloutInput();
    const failovers = (live: PlanInput["live"]) => buildPlan({ ...input, live }).hosts.find((h) => h.host === "esx-01")?.failovers;
    expect(failovers({})).toEqual(["planned switch-over of witness to secondary (esx-02/nic1)"]);
    expect(failovers({ "esx-01/nic1": { source: "port", pairs: { witness: "secondary" } } })).toEqual(["witness runs unprotected on secondary (esx-02/nic1) while esx-01 is down"]);
  });
});

describe("smartfleet plan: folding the preview's steps", () => {
  it("finds the changed keys a dynamic provider's diff does not name: new inputs against the refreshed outputs", () => {
    const old = { inputs: { mode: "dpu", firmware: "1", rollout: { group: "a" }, __provider: "x", password: "[secret]" }, outputs: { mode: "nic", firmware: "1", claim: "already-claimed" } };
    expect(changedKeys({ old: old as never, new: { inputs: { mode: "dpu", firmware: "1", rollout: { group: "b" }, __provider: "y", password: "[secret]" } } as never })).toEqual(["mode"]);
  });

  it("takes a replacement's events as one replace with the changed keys, old values from the refreshed outputs", () => {
    const c = new StepCollector();
    const urn = "urn:pulumi:lab::smartfleet::pulumi-nodejs:dynamic/smartfleet:ServicePair::pair-witness";
    const type = "pulumi-nodejs:dynamic/smartfleet:ServicePair";
    c.addStep({ op: "refresh", urn, type, provider: "" });
    c.addStep({ op: "create-replacement", urn, type, provider: "", diffs: ["secondary"], old: { outputs: { secondary: { host: "esx-02", smartnic: "nic1" }, activeSide: "primary" } } as never, new: { inputs: { secondary: { host: "esx-01", smartnic: "nic2" } } } as never });
    c.addStep({ op: "replace", urn, type, provider: "", diffs: ["secondary"] });
    c.addStep({ op: "same", urn: "urn:pulumi:lab::smartfleet::pulumi:pulumi:Stack::smartfleet-lab", type: "pulumi:pulumi:Stack", provider: "" });
    expect(c.result()).toEqual([
      { name: "pair-witness", step: "replace", changes: [{ property: "secondary", from: { host: "esx-02", smartnic: "nic1" }, to: { host: "esx-01", smartnic: "nic2" } }], olds: { secondary: { host: "esx-02", smartnic: "nic1" }, activeSide: "primary" } },
    ]);
  });

  it("reads `pulumi preview --json`'s steps as the engine's step metadata, in name order", () => {
    const type = "pulumi-nodejs:dynamic/smartfleet:SmartNic";
    const urn = (name: string) => `urn:pulumi:lab::smartfleet::${type}::${name}`;
    const c = new StepCollector();
    const digest = {
      steps: [
        { op: "update", urn: urn("esx-02-nic1"), oldState: { type, inputs: { hostPrivilege: "restricted" }, outputs: { hostPrivilege: "restricted", claim: "x" } }, newState: { type, inputs: { hostPrivilege: "privileged" } }, diffReasons: ["hostPrivilege"], detailedDiff: null },
        { op: "same", urn: urn("esx-01-nic1"), oldState: { type, inputs: { hostPrivilege: "restricted" } }, newState: { type, inputs: { hostPrivilege: "restricted" } } },
        { op: "create", urn: urn("esx-03-nic1"), newState: { inputs: { hostPrivilege: "restricted" } } },
      ],
    } as const;
    for (const step of digest.steps) c.addStep(metadataOfDigestStep(step as never));
    expect(metadataOfDigestStep(digest.steps[2] as never).type).toBe(type);
    expect(c.result()).toEqual([
      { name: "esx-01-nic1", step: "same", changes: [], olds: { hostPrivilege: "restricted" } },
      { name: "esx-02-nic1", step: "update", changes: [{ property: "hostPrivilege", from: "restricted", to: "privileged" }], olds: { hostPrivilege: "restricted", claim: "x" } },
      { name: "esx-03-nic1", step: "create", changes: [] },
    ]);
  });

  it("completes a preview without --show-sames: each declared resource it left out is unchanged, in name order", () => {
    const listed: PreviewStep[] = [{ name: "esx-02-nic1", step: "update", changes: [{ property: "hostPrivilege", from: "restricted", to: "privileged" }] }];
    expect(withUnchanged(listed, ["esx-03-nic1", "esx-02-nic1", "esx-01-nic1"])).toEqual([
      { name: "esx-01-nic1", step: "same", changes: [] },
      listed[0],
      { name: "esx-03-nic1", step: "same", changes: [] },
    ]);
  });

  it("takes a failed preview's error diagnostics as Pulumi's `error:` lines", () => {
    const digest = { diagnostics: [{ message: "error: the stack definition is invalid:\n  a.yaml:3:1 bad\n", severity: "error" }, { message: "note", severity: "info" }, { severity: "error" }, { message: "error: boom\n\u001b[90m    at index.js:1:7\u001b[39m", severity: "error" }] };
    expect(digestErrors(digest)).toEqual(["error: the stack definition is invalid:\n  a.yaml:3:1 bad", "error: boom\n    at index.js:1:7"]);
  });
});
