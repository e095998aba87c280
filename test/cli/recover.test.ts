import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findLocks, judgeLock, recoverStack, formatReport, repairCheckpoint, run, type ProcessProbe, type PulumiRunner } from "../../cli/commands/recover";
import { capture } from "./capture";
import { SqliteLeaseStore } from "../../providers/rollout/sqlite-store";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A project dir and a file backend with the given lock files for stack `dev` of project `demo`. */
function crafted(locks: Array<Record<string, unknown>>): { project: string; backend: string; lockDir: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "smartfleet-recover-test-"));
  dirs.push(root);
  const project = path.join(root, "project");
  fs.mkdirSync(project);
  fs.writeFileSync(path.join(project, "Pulumi.yaml"), "name: demo\nruntime: nodejs\n");
  const backend = path.join(root, "state");
  const lockDir = path.join(backend, ".pulumi", "locks", "organization", "demo", "dev");
  fs.mkdirSync(lockDir, { recursive: true });
  locks.forEach((l, i) => fs.writeFileSync(path.join(lockDir, `lock-${i}.json`), JSON.stringify(l)));
  return { project, backend, lockDir };
}

const TAKEN = "2026-12-01T10:00:00Z";
/** pid 100: gone; 200: a live pulumi started before the lock; 300: a live process started after it; 400: a live non-pulumi. */
const probe: ProcessProbe = {
  hostname: () => "here",
  alive: (pid) => pid !== 100,
  startedAt: (pid) => (pid === 300 ? Date.parse(TAKEN) + 60_000 : Date.parse(TAKEN) - 5_000),
  command: (pid) => (pid === 400 ? "/usr/bin/python3 server.py" : "/opt/pulumi/bin/pulumi up --yes"),
};
const lock = (pid: number, hostname = "here") => ({ pid, username: "ops", hostname, timestamp: TAKEN });

/** A fake `pulumi` with a checkpoint holding `pending`; records what was imported. */
function fakePulumi(pending: Array<{ type: string; urn: string }>): { runner: PulumiRunner; imported: unknown[]; calls: string[][] } {
  const imported: unknown[] = [];
  const calls: string[][] = [];
  const runner: PulumiRunner = async (args) => {
    calls.push(args);
    if (args[1] === "export") {
      return JSON.stringify({ version: 3, deployment: { resources: [{ urn: "urn:stack" }], pending_operations: pending.map((p) => ({ type: p.type, resource: { urn: p.urn } })) } });
    }
    if (args[1] === "import") {
      imported.push(JSON.parse(fs.readFileSync(args[args.indexOf("--file") + 1], "utf8")));
      return "";
    }
    throw new Error(`unexpected pulumi ${args.join(" ")}`);
  };
  return { runner, imported, calls };
}

describe("smartfleet recover", () => {
  it("reads the file backend's lock files of the stack", () => {
    const { backend } = crafted([lock(100), lock(200)]);
    expect(findLocks(backend, "demo", "dev").map((l) => [l.pid, l.username, l.hostname, l.timestamp])).toEqual([
      [100, "ops", "here", TAKEN],
      [200, "ops", "here", TAKEN],
    ]);
    expect(findLocks(backend, "demo", "other")).toEqual([]);
  });

  it("judges a lock stale only when its process is gone from this host", () => {
    const judge = (pid: number, host = "here") => judgeLock({ file: "f", ...lock(pid, host) }, probe);
    expect(judge(100)).toMatchObject({ stale: true, why: "the process is gone" });
    expect(judge(200)).toMatchObject({ stale: false, why: expect.stringMatching(/alive/) });
    expect(judge(300)).toMatchObject({ stale: true, why: expect.stringMatching(/started after the lock/) });
    expect(judge(400)).toMatchObject({ stale: true, why: expect.stringMatching(/python3/) });
    expect(judge(100, "elsewhere")).toMatchObject({ stale: false, why: expect.stringMatching(/host elsewhere/) });
  });

  it("removes a dead run's lock and clears pending creates, leaving updates and deletes for a refresh", async () => {
    const { project, backend, lockDir } = crafted([lock(100)]);
    const pulumi = fakePulumi([
      { type: "creating", urn: "urn:a" },
      { type: "creating", urn: "urn:a" },
      { type: "updating", urn: "urn:b" },
      { type: "deleting", urn: "urn:c" },
    ]);
    const report = await recoverStack({ stack: "dev", cwd: project, env: { PULUMI_BACKEND_URL: `file://${backend}?no_tmp_dir=true` }, pulumi: pulumi.runner, probe });
    expect(fs.readdirSync(lockDir)).toEqual([]);
    expect(report.locksRemoved.map((l) => l.pid)).toEqual([100]);
    expect(report.pendingCleared).toEqual([{ type: "creating", urn: "urn:a" }, { type: "creating", urn: "urn:a" }]);
    expect(report.pendingLeft.map((o) => o.type)).toEqual(["updating", "deleting"]);
    expect(report.problems).toEqual([]);
    expect(pulumi.imported).toEqual([
      { version: 3, deployment: { resources: [{ urn: "urn:stack" }], pending_operations: [{ type: "updating", resource: { urn: "urn:b" } }, { type: "deleting", resource: { urn: "urn:c" } }] } },
    ]);
    const text = formatReport(report);
    expect(text).toMatch(/removed the lock of pid 100 \(ops@here, since 2026-12-01T10:00:00Z\): the process is gone/);
    expect(text).toMatch(/cleared 2 pending creates/);
    expect(text).toMatch(/pulumi refresh --stack dev --yes/);
  });

  it("leaves a live run's lock and the checkpoint alone, and fails", async () => {
    const { project, backend, lockDir } = crafted([lock(200)]);
    const pulumi = fakePulumi([{ type: "creating", urn: "urn:a" }]);
    const report = await recoverStack({ stack: "dev", cwd: project, env: { PULUMI_BACKEND_URL: `file://${backend}` }, pulumi: pulumi.runner, probe });
    expect(fs.readdirSync(lockDir)).toEqual(["lock-0.json"]);
    expect(report.problems).toHaveLength(1);
    expect(pulumi.calls).toEqual([]);
  });

  it("says there is nothing to recover on a clean stack, without importing", async () => {
    const { project, backend } = crafted([]);
    const pulumi = fakePulumi([]);
    const report = await recoverStack({ stack: "dev", cwd: project, env: { PULUMI_BACKEND_URL: `file://${backend}` }, pulumi: pulumi.runner, probe });
    expect(formatReport(report)).toBe("nothing to recover on stack dev");
    expect(pulumi.calls.map((c) => c[1])).toEqual(["export"]);
  });

  /** Writes the file backend's checkpoint of stack `dev` with `pending` in it. */
  function checkpointWith(backend: string, pending: Array<{ type: string; urn: string }>): void {
    const dir = path.join(backend, ".pulumi", "stacks", "demo");
    fs.mkdirSync(dir, { recursive: true });
    const latest = { resources: [{ urn: "urn:stack" }], pending_operations: pending.map((p) => ({ type: p.type, resource: { urn: p.urn } })) };
    fs.writeFileSync(path.join(dir, "dev.json"), JSON.stringify({ version: 3, checkpoint: { stack: "dev", latest } }));
  }

  it("reads pending updates and deletes from the checkpoint file, without running pulumi", async () => {
    const { project, backend } = crafted([]);
    checkpointWith(backend, [
      { type: "updating", urn: "urn:b" },
      { type: "deleting", urn: "urn:c" },
    ]);
    const pulumi = fakePulumi([]);
    const report = await recoverStack({ stack: "dev", cwd: project, env: { PULUMI_BACKEND_URL: `file://${backend}` }, pulumi: pulumi.runner, probe });
    expect(pulumi.calls).toEqual([]);
    expect(report.pendingLeft).toEqual([{ type: "updating", urn: "urn:b" }, { type: "deleting", urn: "urn:c" }]);
    expect(formatReport(report)).toMatch(/left 2 pending update\/delete operation\(s\)/);

    checkpointWith(backend, []);
    const clean = await recoverStack({ stack: "dev", cwd: project, env: { PULUMI_BACKEND_URL: `file://${backend}` }, pulumi: pulumi.runner, probe });
    expect(formatReport(clean)).toBe("nothing to recover on stack dev");
    expect(pulumi.calls).toEqual([]);
  });

  it("clears a pending create the checkpoint file shows through pulumi's export and import", async () => {
    const { project, backend } = crafted([]);
    checkpointWith(backend, [{ type: "creating", urn: "urn:a" }]);
    const pulumi = fakePulumi([{ type: "creating", urn: "urn:a" }]);
    const report = await recoverStack({ stack: "dev", cwd: project, env: { PULUMI_BACKEND_URL: `file://${backend}` }, pulumi: pulumi.runner, probe });
    expect(pulumi.calls.map((c) => c[1])).toEqual(["export", "import"]);
    expect(report.pendingCleared).toEqual([{ type: "creating", urn: "urn:a" }]);
  });

  it("reports a host an interrupted rollout left in maintenance, and forgets its record when asked", async () => {
    const { project, backend } = crafted([]);
    fs.mkdirSync(path.join(project, "stacks"));
    fs.writeFileSync(path.join(project, "stacks", "dev.yaml"), "apiVersion: smartfleet.io/v1\nkind: Stack\nmetadata: { name: fleet-x }\n");
    const store = new SqliteLeaseStore(path.join(project, ".smartfleet", "rollout", "fleet-x.db"));
    await store.markMaintenance("h3", { run: "killed", since: 1, note: "installing failed", group: "cluster:east" });
    const options = { stack: "dev", cwd: project, env: { PULUMI_BACKEND_URL: `file://${backend}` }, pulumi: fakePulumi([]).runner, probe };

    const seen = await recoverStack(options);
    expect(seen.rollout).toMatchObject({ rollout: "fleet-x", maintenance: [{ host: "h3", run: "killed" }], released: [] });
    const text = formatReport(seen);
    expect(text).toContain("note: host h3 is in maintenance since 1970-01-01T00:00:00.001Z, left there by an interrupted run (installing failed): it counts against cluster:east's budget until its next disruption takes it out");
    expect(text).toContain("`smartfleet recover --stack dev --release-maintenance h3`");
    expect(text).toMatch(/nothing to recover on stack dev$/);

    const released = await recoverStack({ ...options, releaseMaintenance: ["h3", "h9"] });
    expect(released.rollout).toMatchObject({ maintenance: [], released: ["h3"], unknown: ["h9"] });
    expect(formatReport(released)).toContain("forgot the maintenance record of host h3: it no longer counts against its group's budget");
    expect(await store.maintenance()).toEqual([]);
    store.close();
  });

  it("takes the rollout store's name from a caller that has loaded the stack file", async () => {
    const { project, backend } = crafted([]);
    const store = new SqliteLeaseStore(path.join(project, ".smartfleet", "rollout", "fleet-y.db"));
    await store.markMaintenance("h4", { run: "killed", since: 1, note: "reboot failed", group: "rack:2" });
    // No stack file to read the name from: only the caller's name finds the store.
    const report = await recoverStack({ stack: "dev", cwd: project, env: { PULUMI_BACKEND_URL: `file://${backend}` }, pulumi: fakePulumi([]).runner, probe, rollout: "fleet-y" });
    expect(report.rollout).toMatchObject({ rollout: "fleet-y", maintenance: [{ host: "h4", run: "killed" }] });
    store.close();
  });

  it("exits 2 on a usage error", async () => {
    const outcome = await capture(run, []);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toMatch(/--stack/);
  });
});

describe("a checkpoint the kill cut short", () => {
  it("is restored from the backend's backup of the one before, keeping the unreadable file", () => {
    const backend = fs.mkdtempSync(path.join(os.tmpdir(), "sf-recover-ckpt-"));
    const dir = path.join(backend, ".pulumi", "stacks", "smartfleet");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "crash.json"), '{"version": 3, "checkpoint": {');
    fs.writeFileSync(path.join(dir, "crash.json.bak"), '{"version": 3, "checkpoint": {}}');
    expect(repairCheckpoint(backend, "smartfleet", "crash").done).toEqual([expect.stringMatching(/restored the one before it from crash.json.bak/)]);
    expect(JSON.parse(fs.readFileSync(path.join(dir, "crash.json"), "utf8"))).toEqual({ version: 3, checkpoint: {} });
    expect(fs.readdirSync(dir).some((f) => f.startsWith("crash.json.unreadable-"))).toBe(true);
    expect(repairCheckpoint(backend, "smartfleet", "crash")).toEqual({ done: [] });
    fs.rmSync(backend, { recursive: true, force: true });
  });

  it("reads again when the kill left the backend's attribute file beside it empty", () => {
    // What CI met: the backend rewrites `<blob>.attrs` in place, and `pulumi stack export`
    // then failed with "failed to load checkpoint: EOF" on a whole checkpoint.
    const backend = fs.mkdtempSync(path.join(os.tmpdir(), "sf-recover-attrs-"));
    const dir = path.join(backend, ".pulumi", "stacks", "smartfleet");
    fs.mkdirSync(dir, { recursive: true });
    const checkpoint = '{"version": 3, "checkpoint": {"latest": {}}}';
    fs.writeFileSync(path.join(dir, "crash.json"), checkpoint);
    fs.writeFileSync(path.join(dir, "crash.json.attrs"), "");
    fs.writeFileSync(path.join(dir, "crash.json.bak"), checkpoint);
    fs.writeFileSync(path.join(dir, "crash.json.bak.attrs"), '{"user.content_type":"application/octet-stream"}\n');
    expect(repairCheckpoint(backend, "smartfleet", "crash").done).toEqual([expect.stringMatching(/attribute file crash.json.attrs was unreadable .*moved aside as crash.json.attrs.unreadable-\d+$/)]);
    expect(fs.existsSync(path.join(dir, "crash.json.attrs"))).toBe(false);
    expect(fs.readFileSync(path.join(dir, "crash.json"), "utf8")).toBe(checkpoint);
    expect(fs.existsSync(path.join(dir, "crash.json.bak.attrs"))).toBe(true);
    expect(repairCheckpoint(backend, "smartfleet", "crash")).toEqual({ done: [] });
    fs.rmSync(backend, { recursive: true, force: true });
  });

  it("reports a repair as work done, and stops before export when the checkpoint cannot be read at all", async () => {
    const { project, backend } = crafted([]);
    const stacks = path.join(backend, ".pulumi", "stacks", "demo");
    fs.mkdirSync(stacks, { recursive: true });
    fs.writeFileSync(path.join(stacks, "dev.json"), '{"version": 3, "checkpoint": {}}');
    fs.writeFileSync(path.join(stacks, "dev.json.attrs"), "");
    const options = { stack: "dev", cwd: project, env: { PULUMI_BACKEND_URL: `file://${backend}` }, probe };
    const repaired = await recoverStack({ ...options, pulumi: fakePulumi([]).runner });
    expect(formatReport(repaired)).toMatch(/^the backend's attribute file dev.json.attrs was unreadable/);
    expect(formatReport(repaired)).not.toMatch(/nothing to recover/);

    fs.writeFileSync(path.join(stacks, "dev.json"), "");
    const broken = fakePulumi([]);
    const unreadable = await recoverStack({ ...options, pulumi: broken.runner });
    expect(unreadable.problems).toEqual([expect.stringMatching(/dev.json is unreadable and has no readable backup/)]);
    expect(broken.calls).toEqual([]);
  });
});
