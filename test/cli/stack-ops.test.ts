/**
 * The front door's parts without Pulumi: engine events as progress lines and counts, the
 * backend of a project, and Pulumi's failures explained (lock, PostgreSQL login) with
 * passwords kept out. The commands against the real CLI: test/e2e/postgres.test.ts.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { LocalWorkspace, type EngineEvent } from "@pulumi/pulumi/automation";
import { backendOf, explainFailure, redactUrl } from "../../cli/stack-ops/backend";
import { Progress } from "../../cli/stack-ops/progress";
import { configIsCurrent, isMissingStack, operateOnPart, previewEarly, runParts, summaryTable, worstExit, type EarlyPreview, type PartResult } from "../../cli/stack-ops/shards";
import { configuredStackFile, pulumiCommand, runOperation, type Outcome } from "../../cli/stack-ops/operate";
import { ensureStack, namedStack, runInWorkspace } from "../../cli/stack-ops/named-stack";
import { plainConfigValue } from "../../cli/stack-ops/settings-file";
import { CROSS_SHARD } from "../../model/shards";
import { run } from "../../cli/commands/up";
import { capture } from "./capture";

const TYPE = "pulumi-nodejs:dynamic/smartfleet:SmartNic";
const urn = (name: string) => `urn:pulumi:lab::smartfleet::${TYPE}::${name}`;
const step = (op: string, name: string, extra: Record<string, unknown> = {}) => ({ op, urn: urn(name), type: TYPE, provider: "", ...extra });
const event = (e: Partial<EngineEvent>) => ({ sequence: 0, timestamp: 0, ...e }) as EngineEvent;

describe("Progress", () => {
  it("prints one line when a changing step starts and one when it ends; counts unchanged steps without lines", () => {
    const lines: string[] = [];
    const p = new Progress((l) => lines.push(l));
    p.onEvent(event({ resourcePreEvent: { metadata: step("same", "a") as never } }));
    p.onEvent(event({ resOutputsEvent: { metadata: step("same", "a") as never } }));
    p.onEvent(event({ resourcePreEvent: { metadata: step("update", "b", { diffs: ["mode"] }) as never } }));
    p.onEvent(event({ resOutputsEvent: { metadata: step("update", "b", { diffs: ["mode"] }) as never } }));
    p.onEvent(event({ resourcePreEvent: { metadata: step("create", "c") as never } }));
    p.onEvent(event({ resOpFailedEvent: { metadata: step("create", "c") as never, status: 1, steps: 1 } }));
    p.onEvent(event({ diagnosticEvent: { urn: urn("c"), message: "port down\n", color: "never", severity: "error" } }));
    p.onEvent(event({ resourcePreEvent: { metadata: { op: "same", urn: "urn:pulumi:lab::smartfleet::pulumi:pulumi:Stack::smartfleet-lab", type: "pulumi:pulumi:Stack", provider: "" } } }));
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^\[\s*\d+\.\ds\] updating\s+b \(SmartNic\) \[mode\]$/);
    expect(lines[1]).toMatch(/^\[\s*\d+\.\ds\] updated\s+b \(SmartNic\) \[mode\] in \d+\.\ds$/);
    expect(lines[2]).toMatch(/^\[\s*\d+\.\ds\] creating\s+c \(SmartNic\)$/);
    expect(lines[3]).toMatch(/^\[\s*\d+\.\ds\] failed\s+c \(SmartNic\) \(create\) in \d+\.\ds$/);
    expect(p.changed()).toBe(1);
    expect(p.unchanged()).toBe(1);
    expect(p.tally).toMatchObject({ failed: 1, errors: ["c: port down"] });
  });

  it("prints a preview's planned changes once each, and a refresh only where the live state differs", () => {
    const lines: string[] = [];
    const p = new Progress((l) => lines.push(l));
    p.onEvent(event({ resourcePreEvent: { metadata: step("create", "n") as never, planning: true } }));
    p.onEvent(event({ resourcePreEvent: { metadata: step("same", "m") as never, planning: true } }));
    p.onEvent(event({ resOutputsEvent: { metadata: step("create", "n") as never, planning: true } }));
    expect(lines).toEqual(["+  create   n (SmartNic)"]);
    const refresh: string[] = [];
    const r = new Progress((l) => refresh.push(l));
    for (const [name, diffs] of [["x", []], ["y", ["hostPrivilege"]]] as const) {
      r.onEvent(event({ resourcePreEvent: { metadata: step("refresh", name) as never } }));
      r.onEvent(event({ resOutputsEvent: { metadata: step("refresh", name, { diffs }) as never } }));
    }
    expect(refresh).toHaveLength(1);
    expect(refresh[0]).toMatch(/refreshed\s+y \(SmartNic\) \[hostPrivilege\] in/);
  });
});

describe("backend and failures", () => {
  it("takes the backend from PULUMI_BACKEND_URL, else Pulumi.yaml", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smartfleet-backend-"));
    try {
      fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: p\nruntime: nodejs\nbackend:\n  url: file://./state\n");
      expect(backendOf(dir, {})).toEqual({ url: "file://./state", kind: "file" });
      expect(backendOf(dir, { PULUMI_BACKEND_URL: "postgres://u:p@h:5/d" }).kind).toBe("postgres");
      expect(redactUrl("postgres://u:secret@h:5/d?sslmode=disable")).toBe("postgres://u:****@h:5/d?sslmode=disable");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("explains a lock with its holder once, and what clears it on each backend", () => {
    const text = "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.\n  postgres://****:****@h:5/d/.pulumi/locks/x.json: created by ci@runner-3 (pid 4242) at 2026-12-01T10:00:00Z\n";
    const pg = explainFailure(text + text, "lab", { url: "postgres://u:pw-7f3a@h:5/d", kind: "postgres" });
    expect(pg).toEqual({ kind: "lock", message: "stack lab is locked by another update (ci@runner-3 (pid 4242) since 2026-12-01T10:00:00Z): wait for it to end; `pulumi cancel --stack lab` clears it if that process is gone" });
    expect(explainFailure(text, "lab", { url: "file:///s", kind: "file" }).message).toContain("`smartfleet recover --stack lab` clears it");
  });

  it("says a PostgreSQL backend refused the password without printing it", () => {
    const url = "postgres://smartfleet:hunter2-xyz@127.0.0.1:5999/pulumi?sslmode=disable";
    const text = `error: unable to open state database "postgres://smartfleet:hunter2-xyz@127.0.0.1:5999/pulumi": failed to ping PostgreSQL: pq: password authentication failed for user "smartfleet" (28P01)`;
    const explained = explainFailure(text, "lab", { url, kind: "postgres" });
    expect(explained.kind).toBe("backend");
    expect(explained.message).toBe(
      "the state backend postgres://smartfleet:****@127.0.0.1:5999/pulumi?sslmode=disable cannot be used: the PostgreSQL server at 127.0.0.1:5999 refused the password of user 'smartfleet' (check the password in the URL, or `smartfleet db url` for a local cluster)",
    );
    expect(explainFailure("error: update failed\n  resource x: boom", "lab", { url, kind: "postgres" })).toEqual({ kind: "failed", message: "update failed" });
  });
});

describe("smartfleet up (input errors before Pulumi)", () => {
  it("refuses a missing stack file and an invalid one with exit 2", async () => {
    const missing = await capture(run, ["stacks/no-such.yaml"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("smartfleet up: no stack file stacks/no-such.yaml");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smartfleet-up-"));
    try {
      const bad = path.join(dir, "bad.yaml");
      fs.writeFileSync(bad, "apiVersion: smartfleet.dev/v1\nkind: Stack\nhosts: 7\n");
      const invalid = await capture(run, [bad]);
      expect(invalid.code).toBe(2);
      expect(invalid.stderr).toContain(`smartfleet up: ${bad} is invalid:`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the shards' summary", () => {
  const outcome = (stack: string, changed: number, seconds: number, failed = 0) => ({ stack, operation: "up" as const, ok: !failed, changed, unchanged: 2, failed, seconds, errors: [] });
  const results: PartResult[] = [
    { part: "r1", status: "ok", outcome: outcome("lab.r1", 12, 8.04) },
    { part: "r2", status: "failed", outcome: outcome("lab.r2", 3, 6.5, 1), note: "esx-02-nic1: port down" },
    { part: "cross-shard", status: "skipped", note: "needs r1, r2; r2 did not up" },
  ];

  it("is a table with one row per part: counts, time, and why a part failed or was skipped", () => {
    expect(summaryTable(results, "up").split("\n")).toEqual([
      "shard        result   changed  unchanged  failed  time  note",
      "r1           ok            12          2       0  8.0s",
      "r2           failed         3          2       1  6.5s  esx-02-nic1: port down",
      "cross-shard  skipped        -          -       -     -  needs r1, r2; r2 did not up",
    ]);
    expect(summaryTable(results.slice(0, 1), "preview").split("\n")[0]).toContain("to change");
  });

  it("exits with the worst part's code: a backend that cannot be used (2) over a failure, lock or skip (1)", () => {
    expect(worstExit(results.slice(0, 1))).toBe(0);
    expect(worstExit(results)).toBe(1);
    expect(worstExit([...results, { part: "r3", status: "backend", note: "refused" }])).toBe(2);
    expect(worstExit([{ part: "r1", status: "locked" }])).toBe(1);
  });
});

/** A project whose settings live in stacks/, with `Pulumi.<name>.yaml` holding `body`. */
function project(name: string, body: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smartfleet-settings-"));
  fs.mkdirSync(path.join(dir, "stacks"));
  fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: p\nruntime: nodejs\nstackConfigDir: stacks\n");
  fs.writeFileSync(path.join(dir, "stacks", `Pulumi.${name}.yaml`), body);
  return dir;
}

describe("configIsCurrent", () => {
  it("holds when the part's settings name it and are newer than the base's; a change of the base's makes them stale", () => {
    const dir = project("fleet", "config:\n  smartfleet:stackFile: stacks/fleet.yaml\n");
    try {
      const base = path.join(dir, "stacks", "Pulumi.fleet.yaml");
      const part = path.join(dir, "stacks", "Pulumi.fleet.r1.yaml");
      expect(configIsCurrent(dir, "fleet", "fleet.r1", "r1")).toBe(false);
      fs.writeFileSync(part, "config:\n  smartfleet:stackFile: stacks/fleet.yaml\n  smartfleet:shard: r1\n");
      fs.utimesSync(base, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
      expect(configIsCurrent(dir, "fleet", "fleet.r1", "r1")).toBe(true);
      expect(configIsCurrent(dir, "fleet", "fleet.r1", "r2")).toBe(false);
      fs.utimesSync(base, new Date(Date.now() + 60_000), new Date(Date.now() + 60_000));
      expect(configIsCurrent(dir, "fleet", "fleet.r1", "r1")).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("operateOnPart: a shard run before is taken to exist", () => {
  const outcome = (failure?: string): Outcome => ({ stack: "fleet.r1", operation: "preview", ok: !failure, changed: 0, unchanged: 3, failed: 0, seconds: 1, errors: [], ...(failure ? { failure: { kind: "failed" as const, message: failure } } : {}) });
  const missing = "no stack named 'fleet.r1' found";

  it("runs once when the stack is there; makes it and runs again only when Pulumi says it is missing and it may", async () => {
    const calls: string[] = [];
    const answers = (...list: Outcome[]) => async () => (calls.push("operate"), list.shift() as Outcome);
    const ensure = async () => void calls.push("ensure");
    expect((await operateOnPart(answers(outcome()), ensure)).ok).toBe(true);
    expect(calls.splice(0)).toEqual(["operate"]);
    expect((await operateOnPart(answers(outcome(missing), outcome()), ensure)).ok).toBe(true);
    expect(calls.splice(0)).toEqual(["operate", "ensure", "operate"]);
    expect((await operateOnPart(answers(outcome(missing)))).failure?.message).toBe(missing);
    expect(calls.splice(0)).toEqual(["operate"]);
    expect((await operateOnPart(answers(outcome("error: resource failed")), ensure)).ok).toBe(false);
    expect(calls.splice(0)).toEqual(["operate"]);
  });

  it("knows Pulumi's own answer for a stack the backend lacks, and ensureStack makes it", async () => {
    const dir = project("fleet", "config:\n  smartfleet:stackFile: stacks/fleet.yaml\n");
    const state = path.join(dir, "state");
    fs.mkdirSync(state);
    try {
      // PULUMI_BACKEND_URL (the toolchain sets one) would take precedence over a project's own backend.
      const envVars = { PULUMI_BACKEND_URL: `file://${state}`, PULUMI_CONFIG_PASSPHRASE: "operate-on-part" };
      const workspace = await LocalWorkspace.create({ workDir: dir, pulumiCommand: await pulumiCommand(), envVars });
      const refused = await runOperation(await namedStack(workspace, "fleet.r1"), "preview", { emit: () => undefined, backend: { url: envVars.PULUMI_BACKEND_URL, kind: "file" } });
      expect(isMissingStack(refused), refused.failure?.message).toBe(true);
      await ensureStack(workspace, "fleet.r1");
      await ensureStack(workspace, "fleet.r1");
      const listed = await runInWorkspace(workspace, ["stack", "ls", "--json"]);
      expect(JSON.parse(listed.stdout).map((s: { name: string }) => s.name)).toEqual(["fleet.r1"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("previewEarly: a preview of named shards started before the stack file is loaded", () => {
  /** The settings of a project whose parts `runBefore` have current settings files. */
  const settings = (shardOption: string | undefined, runBefore: string[], concurrency = 2): EarlyPreview => {
    const dir = project("fleet", "config:\n  smartfleet:stackFile: stacks/fleet.yaml\n");
    const past = new Date(Date.now() - 60_000);
    fs.utimesSync(path.join(dir, "stacks", "Pulumi.fleet.yaml"), past, past);
    for (const part of runBefore) fs.writeFileSync(path.join(dir, "stacks", `Pulumi.fleet.${part}.yaml`), `config:\n  smartfleet:shard: ${part}\n`);
    return {
      projectDir: dir,
      base: { name: "fleet", getAllConfig: () => Promise.reject(new Error("not read")) },
      concurrency,
      backend: { url: "file:///nonexistent", kind: "file" },
      emit: () => undefined,
      shardOption,
      handoffDir: dir,
    };
  };

  it("starts nothing without --shard, for a part not run before (or no part at all), or for more parts than run at once", () => {
    const made: string[] = [];
    const early = (...args: Parameters<typeof settings>) => {
      const run = settings(...args);
      made.push(run.projectDir);
      return previewEarly(run);
    };
    try {
      expect(early(undefined, ["r1"])).toBeUndefined();
      expect(early("r1,r2", ["r1"])).toBeUndefined();
      expect(early("r1,bogus", ["r1"])).toBeUndefined();
      expect(early("r1,r2,r3", ["r1", "r2", "r3"])).toBeUndefined();
      expect(early("r1,r2", ["r1", "r2"], 1)).toBeUndefined();
    } finally {
      for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("config read from the stack's settings file", () => {
  /** A stack as the Automation API gives it, counting the `pulumi config` runs asked of it. */
  function stackOf(name: string, config: Record<string, { value: string; secret?: boolean }>) {
    const stack = { name, configReads: 0, getAllConfig: async () => (stack.configReads++, config) };
    return stack;
  }

  it("answers a plain value alone; a secret, an ESC environment, an unset key or a missing file leave it to Pulumi", () => {
    const dir = project("fleet", "config:\n  smartfleet:stackFile: stacks/fleet.yaml\n  smartfleet:managementPassword:\n    secure: v1:abc\n");
    const withEnv = project("team", "environment:\n  - shared\nconfig:\n  smartfleet:stackFile: stacks/team.yaml\n");
    try {
      expect(plainConfigValue(dir, "fleet", "smartfleet:stackFile")).toBe("stacks/fleet.yaml");
      expect(plainConfigValue(dir, "org/p/fleet", "smartfleet:stackFile")).toBe("stacks/fleet.yaml");
      expect(plainConfigValue(dir, "fleet", "smartfleet:managementPassword")).toBeUndefined();
      expect(plainConfigValue(dir, "fleet", "smartfleet:endpoints")).toBeUndefined();
      expect(plainConfigValue(dir, "other", "smartfleet:stackFile")).toBeUndefined();
      expect(plainConfigValue(withEnv, "team", "smartfleet:stackFile")).toBeUndefined();
    } finally {
      for (const d of [dir, withEnv]) fs.rmSync(d, { recursive: true, force: true });
    }
  });

  it("the stack file a stack runs comes from its settings file without a `pulumi config` run, else from Pulumi", async () => {
    const dir = project("fleet", "config:\n  smartfleet:stackFile: stacks/fleet.yaml\n");
    try {
      const plain = stackOf("fleet", { "smartfleet:stackFile": { value: "stacks/other.yaml" } });
      expect(await configuredStackFile(plain as never, dir)).toBe(path.join(dir, "stacks", "fleet.yaml"));
      expect(plain.configReads).toBe(0);
      const unset = stackOf("lab", { "smartfleet:stackFile": { value: "stacks/from-pulumi.yaml" } });
      expect(await configuredStackFile(unset as never, dir)).toBe(path.join(dir, "stacks", "from-pulumi.yaml"));
      expect(unset.configReads).toBe(1);
      const neither = stackOf("lab", {});
      expect(await configuredStackFile(neither as never, dir)).toBe(path.join(dir, "stacks", "lab.yaml"));
      // A caller that reads the whole configuration anyway (plan) hands its read over: no second `pulumi config`.
      const shared = stackOf("lab", {});
      const read = Promise.resolve({ "smartfleet:stackFile": { value: "stacks/read-once.yaml" } });
      expect(await configuredStackFile(shared as never, dir, () => read)).toBe(path.join(dir, "stacks", "read-once.yaml"));
      expect(shared.configReads).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("runParts: the order of a sharded run", () => {
  /** Runs `runParts` with parts that end when the test says, recording starts and the most at once. */
  function harness(parts: string[], crossSpans: string[], operation: "up" | "preview" | "destroy", concurrency: number, failing: string[] = []) {
    const starts: string[] = [];
    const ends = new Map<string, () => void>();
    let running = 0;
    let most = 0;
    const done = runParts({ parts, crossSpans, operation, concurrency }, async (part) => {
      starts.push(part);
      most = Math.max(most, ++running);
      await new Promise<void>((resolve) => ends.set(part, resolve));
      running--;
      return failing.includes(part) ? { part, status: "failed", note: "boom" } : { part, status: "ok" };
    });
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    const end = async (...names: string[]) => {
      for (const name of names) {
        const resolve = ends.get(name);
        if (!resolve) throw new Error(`${name} has not started (started: ${starts.join(", ")})`);
        resolve();
        await settle();
      }
    };
    return { starts, end, settle, done, most: () => most };
  }

  it("up: the shards the cross-shard part spans go first; it starts once they are done, while the others still run", async () => {
    const h = harness(["r1", "r2", "r3", "r4", CROSS_SHARD], ["r2", "r4"], "up", 2);
    await h.settle();
    expect(h.starts).toEqual(["r2", "r4"]);
    await h.end("r2");
    expect(h.starts).toEqual(["r2", "r4", "r1"]);
    await h.end("r4");
    expect(h.starts).toEqual(["r2", "r4", "r1", CROSS_SHARD]);
    await h.end("r1", CROSS_SHARD);
    expect(h.starts.at(-1)).toBe("r3");
    await h.end("r3");
    expect((await h.done).map((r) => `${r.part} ${r.status}`)).toEqual(["r1 ok", "r2 ok", "r3 ok", "r4 ok", "cross-shard ok"]);
    expect(h.most()).toBe(2);
  });

  it("up: a failed shard it spans skips the cross-shard part; a failure elsewhere does not", async () => {
    const spanned = harness(["r1", "r2", "r3", CROSS_SHARD], ["r1", "r2"], "up", 3, ["r2"]);
    await spanned.end("r1", "r2", "r3");
    const results = await spanned.done;
    expect(results.at(-1)).toEqual({ part: CROSS_SHARD, status: "skipped", note: "needs r1, r2; r2 did not up" });
    expect(spanned.starts).not.toContain(CROSS_SHARD);

    const elsewhere = harness(["r1", "r2", "r3", CROSS_SHARD], ["r1", "r2"], "up", 3, ["r3"]);
    await elsewhere.end("r1", "r2", CROSS_SHARD, "r3");
    expect((await elsewhere.done).map((r) => r.status)).toEqual(["ok", "ok", "failed", "ok"]);
  });

  it("preview: previews the cross-shard part whatever its shards said", async () => {
    const h = harness(["r1", CROSS_SHARD], ["r1"], "preview", 2, ["r1"]);
    await h.end("r1", CROSS_SHARD);
    expect((await h.done).map((r) => r.status)).toEqual(["failed", "ok"]);
  });

  it("destroy: the cross-shard part first, the shards it spans after it, the others at once; its failure skips only its shards", async () => {
    const h = harness(["r1", "r2", "r3", CROSS_SHARD], ["r1", "r2"], "destroy", 2, [CROSS_SHARD]);
    await h.settle();
    expect(h.starts).toEqual([CROSS_SHARD, "r3"]);
    await h.end(CROSS_SHARD, "r3");
    const results = await h.done;
    expect(results.map((r) => `${r.part} ${r.status}`)).toEqual(["cross-shard failed", "r1 skipped", "r2 skipped", "r3 ok"]);
    expect(results[1].note).toBe("cross-shard was not destroyed: its pairs and shares still use this shard's DPUs");
    expect(h.starts).toEqual([CROSS_SHARD, "r3"]);
  });

  it("without a cross-shard part: the shards in order, never more than the concurrency at once", async () => {
    const h = harness(["r1", "r2", "r3"], [], "up", 2);
    await h.settle();
    expect(h.starts).toEqual(["r1", "r2"]);
    await h.end("r2", "r1", "r3");
    expect((await h.done).map((r) => r.part)).toEqual(["r1", "r2", "r3"]);
    expect(h.most()).toBe(2);
  });
});
