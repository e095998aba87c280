/**
 * Team state in PostgreSQL: `smartfleet db start` brings up a local cluster (Debian's
 * postgresql, as the postgres account when we are root) in the sandbox, and the lab stack
 * runs through `smartfleet up|preview|refresh` against the emulated fleet with Pulumi's
 * postgres:// backend: the fleet converges, the state is rows in PostgreSQL (nothing in
 * the file backend), `pulumi stack export` is valid; two concurrent `smartfleet up` of one
 * stack: one applies, the other reports the lock; the stacks are named in each command,
 * never selected; a wrong password or a server that is not there is said in those words,
 * the password never printed; `db stop` ends the server.
 * Address block 127.211.0.x.
 */
import { execFile, execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as YAML from "yaml";
import type { RunningEmulator } from "../../emulator";
import { countFleet, drift, editStackFile, endpointsFileOf, fleetState, LAB_COUNTS, labStack, makeLabProject, pulumiCli, startLabEmulator, type LabProject } from "./lab";
import { repoRoot } from "../support/pulumi";

const CLI = path.join(repoRoot, "cli", "bin", "smartfleet.js");

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the smartfleet CLI in the project copy with the sandbox's Pulumi settings. */
function smartfleet(project: LabProject, args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: project.workDir, env: { ...process.env, ...project.sandbox.envVars, ...env }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The sandbox's pulumi with some settings replaced (another backend). */
function pulumiCliWith(project: LabProject, env: Record<string, string>, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(project.sandbox.command.command, [...args, "--non-interactive"], { cwd: project.workDir, env: { ...process.env, ...project.sandbox.envVars, ...env } }, (error, stdout, stderr) =>
      error ? reject(new Error(`pulumi ${args.join(" ")}: ${stderr}`)) : resolve(stdout),
    );
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

describe("the lab stack on Pulumi's PostgreSQL backend", () => {
  let project: LabProject;
  let emulator: RunningEmulator;
  let clusterDir: string;
  let url: string;
  let port: number;
  let password: string;
  let stackFile: string;
  /** The smartfleet resources of the single lab stack, by name. */
  let labResources: string[] = [];

  beforeAll(async () => {
    project = await makeLabProject("127.211.0");
    // The server runs as the postgres account when we are root: it must search the sandbox.
    fs.chmodSync(project.sandbox.dir, 0o711);
    clusterDir = path.join(project.sandbox.dir, "pg");
    const started = await smartfleet(project, ["db", "start", "--dir", clusterDir]);
    expect(started.stderr).toBe("");
    expect(started.code).toBe(0);
    url = started.stdout.trim();
    expect(url).toMatch(/^postgres:\/\/smartfleet:[^@]+@127\.0\.0\.1:\d+\/pulumi\?sslmode=disable$/);
    port = Number(new URL(url).port);
    password = decodeURIComponent(new URL(url).password);
    expect(fs.statSync(path.join(clusterDir, "password")).mode & 0o777).toBe(0o600);
    project.sandbox.envVars.PULUMI_BACKEND_URL = url;
    emulator = await startLabEmulator(project);
    await labStack(project, "lab", endpointsFileOf(project));
    stackFile = path.relative(project.workDir, project.stackFile);
  }, 180_000);

  afterAll(async () => {
    await emulator?.stop();
    if (clusterDir && fs.existsSync(path.join(clusterDir, "cluster.json"))) {
      const stopped = await smartfleet(project, ["db", "stop", "--dir", clusterDir]);
      expect(stopped.code).toBe(0);
      expect(await listening(port)).toBe(false);
    }
    project?.cleanup();
  }, 120_000);

  it("db status and url answer for the running cluster", async () => {
    const status = await smartfleet(project, ["db", "status", "--dir", clusterDir]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/running \(pid \d+\) on 127\.0\.0\.1:\d+, database pulumi, login accepted/);
    expect(status.stdout).not.toContain(password);
    expect((await smartfleet(project, ["db", "url", "--dir", clusterDir])).stdout.trim()).toBe(url);
  });

  it("up brings the fleet to the stack, one line per resource event, and the state is in PostgreSQL", async () => {
    const up = await smartfleet(project, ["up", stackFile, "--parallel", "16"]);
    expect(up.stderr).toBe("");
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/^\[\s*[\d.]+s\] creating\s+esx-01-nic1-dfw \(DpuService\)$/m);
    expect(up.stdout).toMatch(/^\[\s*[\d.]+s\] created\s+esx-01-nic1-dfw \(DpuService\) in [\d.]+s$/m);
    expect(up.stdout).toMatch(/^up of lab done in [\d.]+s: \d+ changed, 0 unchanged$/m);
    expect(countFleet(await fleetState(emulator))).toEqual(LAB_COUNTS);

    // The state is rows of Pulumi's table, none of it a file.
    expect(fs.readdirSync(project.sandbox.backendDir)).toEqual([]);
    const psql = path.join(execFileSync(path.join(repoRoot, "scripts", "postgres.sh"), { encoding: "utf8" }).trim(), "psql");
    const rows = execFileSync(psql, ["-X", "-tA", "-h", "127.0.0.1", "-p", String(port), "-U", "smartfleet", "-d", "pulumi", "-c", "SELECT key FROM pulumi_state ORDER BY key"], {
      encoding: "utf8",
      env: { ...process.env, PGPASSWORD: password },
    });
    // Keys are the DIY layout's paths under the URL's path (the database name).
    expect(rows).toMatch(/^pulumi\/\.pulumi\/stacks\/smartfleet\/lab\.json$/m);

    const exported = JSON.parse(await pulumiCli(project, ["stack", "export", "--stack", "lab"])) as { version: number; deployment: { resources: Array<{ urn: string; type: string }>; pending_operations?: unknown[] } };
    labResources = exported.deployment.resources.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/smartfleet:")).map((r) => r.urn.slice(r.urn.lastIndexOf("::") + 2));
    expect(exported.version).toBeGreaterThanOrEqual(3);
    expect(exported.deployment.resources.filter((r) => r.type.endsWith(":DpuService")).length).toBe(LAB_COUNTS.services);
    expect(exported.deployment.pending_operations ?? []).toEqual([]);
  }, 180_000);

  it("preview and refresh after up find nothing to change", async () => {
    const preview = await smartfleet(project, ["preview", stackFile]);
    expect(preview.code).toBe(0);
    expect(preview.stdout).toMatch(/^preview of lab done in [\d.]+s: 0 to change, \d+ unchanged$/m);
    const refresh = await smartfleet(project, ["refresh", stackFile]);
    expect(refresh.code).toBe(0);
    expect(refresh.stdout).toMatch(/^refresh of lab done in [\d.]+s: 0 changed, \d+ unchanged$/m);
  }, 120_000);

  it("names its stack in each command and never selects it; a stack the backend lacks is said so", async () => {
    const selected = async () => (await pulumiCli(project, ["stack", "--show-name", "--non-interactive"])).trim();
    await pulumiCli(project, ["stack", "init", "someone-elses", "--non-interactive"]);
    try {
      expect(await selected()).toBe("someone-elses");
      const preview = await smartfleet(project, ["preview", stackFile]);
      expect(preview.code).toBe(0);
      expect(preview.stdout).toMatch(/^preview of lab done in [\d.]+s: 0 to change, \d+ unchanged$/m);
      const missing = await smartfleet(project, ["preview", stackFile, "--stack", "no-such-stack"]);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain("smartfleet preview: no stack 'no-such-stack' in the backend: create it with `pulumi stack init no-such-stack`");
      expect(await selected()).toBe("someone-elses");
    } finally {
      await pulumiCli(project, ["stack", "rm", "--yes", "someone-elses", "--non-interactive"]);
    }
  }, 120_000);

  it("two concurrent ups of the stack: one applies, the other reports the lock; the state stays valid", async () => {
    editStackFile(project, (doc) => doc.setIn(["hosts", "esx-01", "smartnics", "nic1", "services", "dfw", "version"], "4.2.2"));
    const dfwVersion = async () => (await fleetState(emulator))[project.serials["esx-01/nic1"]].services.find((s) => s.serviceType === "nsx-dfw")?.version;
    // The DIY lock is check, write, check again: two runs whose writes land between each
    // other's checks both back off (neither applies); a pair that does so is run again.
    let runs: CliRun[] = [];
    for (let attempt = 0; attempt < 3; attempt += 1) {
      runs = await Promise.all([smartfleet(project, ["up", stackFile]), smartfleet(project, ["up", stackFile])]);
      if (runs.some((r) => r.code === 0)) break;
      expect(runs.map((r) => r.stderr).join("\n")).toMatch(/stack lab is locked by another update/);
      expect(await dfwVersion()).toBe("4.2.1");
    }
    const applied = runs.filter((r) => r.code === 0);
    const locked = runs.filter((r) => r.code !== 0);
    expect(applied.length).toBe(1);
    expect(applied[0].stdout).toMatch(/^\[\s*[\d.]+s\] updated\s+esx-01-nic1-dfw \(DpuService\) in [\d.]+s$/m);
    expect(applied[0].stdout).toMatch(/^up of lab done in [\d.]+s: 1 changed, \d+ unchanged$/m);
    expect(locked[0].code).toBe(1);
    expect(locked[0].stderr).toMatch(/stack lab is locked by another update \(\S+@\S+ \(pid \d+\) since \S+\): wait for it to end; `pulumi cancel --stack lab` clears it/);
    expect(locked[0].stderr).not.toContain(password);

    expect(await dfwVersion()).toBe("4.2.2");
    const exported = JSON.parse(await pulumiCli(project, ["stack", "export", "--stack", "lab"])) as { deployment: { resources: unknown[]; pending_operations?: unknown[] } };
    expect(exported.deployment.pending_operations ?? []).toEqual([]);
    const preview = await smartfleet(project, ["preview", stackFile]);
    expect(preview.stdout).toMatch(/: 0 to change, /);
  }, 180_000);

  it("destroy releases the fleet through the front door", async () => {
    const destroy = await smartfleet(project, ["destroy", stackFile]);
    expect(destroy.stderr).toBe("");
    expect(destroy.code).toBe(0);
    expect(destroy.stdout).toMatch(/^\[\s*[\d.]+s\] deleted\s+pair-witness \(ServicePair\) in [\d.]+s$/m);
    expect(countFleet(await fleetState(emulator))).toMatchObject({ services: 0, hostDevices: 0, servicePairs: 0, acceleratorShares: 0 });
  }, 120_000);

  it("a stack sharded by rack: the shards concurrently, then the cross-shard pair and share; every resource in one stack", async () => {
    // esx-01 and esx-03 in rack r1, esx-02 and esx-04 in r2: the witness pair and the FPGA share span both.
    const inventory = YAML.parseDocument(fs.readFileSync(project.inventoryFile, "utf8"));
    const racks: Record<string, string> = { "esx-01": "r1", "esx-02": "r2", "esx-03": "r1", "esx-04": "r2" };
    (inventory.toJS().hosts as Array<{ name: string }>).forEach((h, i) => inventory.setIn(["hosts", i, "labels"], { rack: racks[h.name] }));
    fs.writeFileSync(project.inventoryFile, inventory.toString());
    const sharded = YAML.parseDocument(fs.readFileSync(project.stackFile, "utf8"));
    sharded.set("shards", { by: "label:rack" });
    fs.writeFileSync(path.join(project.workDir, "stacks", "racks.yaml"), sharded.toString());
    const base = await labStack(project, "racks", endpointsFileOf(project));
    await base.setConfig("smartfleet:stackFile", { value: "stacks/racks.yaml" });
    // What the user last selected stays selected through every part's run.
    await pulumiCli(project, ["stack", "select", "lab", "--non-interactive"]);

    const up = await smartfleet(project, ["up", "stacks/racks.yaml", "--concurrency", "2", "--parallel", "16"]);
    expect(up.stderr).toBe("");
    expect(up.code).toBe(0);
    const lines = up.stdout.split("\n");
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    for (const part of ["r1", "r2", "cross-shard"]) {
      expect(at(new RegExp(`^\\[\\s*[\\d.]+s\\] ${part}\\s+up started \\(stack racks\\.${part}\\)$`))).toBeGreaterThanOrEqual(0);
      expect(at(new RegExp(`^\\[\\s*[\\d.]+s\\] ${part}\\s+up done in [\\d.]+s: \\d+ changed, 0 unchanged$`))).toBeGreaterThanOrEqual(0);
    }
    // Both shards started before either ended (concurrently); the cross-shard part after both.
    expect(Math.max(at(/ r1\s+up started/), at(/ r2\s+up started/))).toBeLessThan(Math.min(at(/ r1\s+up done/), at(/ r2\s+up done/)));
    expect(at(/ cross-shard\s+up started/)).toBeGreaterThan(Math.max(at(/ r1\s+up done/), at(/ r2\s+up done/)));
    expect(up.stdout).toMatch(/^shard\s+result\s+changed\s+unchanged\s+failed\s+time\s+note$/m);
    expect(up.stdout).toMatch(/^cross-shard\s+ok\s+\d+\s+0\s+0\s+[\d.]+s$/m);
    expect(countFleet(await fleetState(emulator))).toEqual(LAB_COUNTS);

    const names: string[] = [];
    const byPart: Record<string, string[]> = {};
    for (const part of ["r1", "r2", "cross-shard"]) {
      const exported = JSON.parse(await pulumiCli(project, ["stack", "export", "--stack", `racks.${part}`])) as { deployment: { resources: Array<{ urn: string; type: string }> } };
      byPart[part] = exported.deployment.resources.filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/smartfleet:")).map((r) => r.urn.slice(r.urn.lastIndexOf("::") + 2));
      names.push(...byPart[part]);
    }
    expect(byPart["cross-shard"].sort()).toEqual(["esx-02-nic1-fpga0", "pair-witness", "share-fpga-share"]);
    const single = JSON.parse(await pulumiCli(project, ["stack", "export", "--stack", "lab"])) as { deployment: { resources: unknown[] } };
    expect(single.deployment.resources ?? []).toHaveLength(0);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(["pair-witness", "share-fpga-share", "esx-02-nic1-fpga0", "esx-01", "esx-04-nic1-ids"]));
    expect(names.sort()).toEqual([...labResources].sort());

    const preview = await smartfleet(project, ["preview", "stacks/racks.yaml", "--shard", "r1"]);
    expect(preview.code).toBe(0);
    expect(preview.stdout).toMatch(/^r1\s+ok\s+0\s+\d+\s+0\s+[\d.]+s$/m);
    expect(preview.stdout).not.toMatch(/^(r2|cross-shard)\s/m);
    const unknown = await smartfleet(project, ["preview", "stacks/racks.yaml", "--shard", "r9"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("--shard: no shard r9; the stack's parts are r1, r2, cross-shard");
    // Named shards whose stacks are current start while the stack file loads, and wait for it.
    expect(preview.stdout).toMatch(/^\[\s*[\d.]+s\] r1\s+preview started while the stack file loads \(stack racks\.r1\)$/m);
    const both = await smartfleet(project, ["preview", "stacks/racks.yaml", "--shard", "r2,r1", "--concurrency", "2"]);
    expect(both.code).toBe(0);
    expect(both.stdout.split("\n").filter((line) => /^(r1|r2|cross-shard)\s+ok\s/.test(line)).map((line) => line.split(" ")[0])).toEqual(["r1", "r2"]);
    // An invalid file stops them before their programs declare anything: its error alone, exit 2, nothing left behind.
    const racksFile = path.join(project.workDir, "stacks", "racks.yaml");
    const valid = fs.readFileSync(racksFile, "utf8");
    fs.appendFileSync(racksFile, "bogus: 1\n");
    try {
      const invalid = await smartfleet(project, ["preview", "stacks/racks.yaml", "--shard", "r1"]);
      expect(invalid.code).toBe(2);
      expect(invalid.stderr).toMatch(/^smartfleet preview: \S+racks\.yaml is invalid:\n.*bogus/s);
      expect(invalid.stdout).toBe("");
    } finally {
      fs.writeFileSync(racksFile, valid);
    }
    const again = await smartfleet(project, ["preview", "stacks/racks.yaml", "--shard", "r1"]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^r1\s+ok\s+0\s+\d+\s+0\s+[\d.]+s$/m);

    // One plan over the parts: a DPU of r2 drifted on its port is planned back, nothing else.
    const serial = project.serials["esx-04/nic1"];
    await drift(emulator, serial, { kind: "hostPrivilege", value: "privileged" });
    try {
      const plan = await smartfleet(project, ["plan", "stacks/racks.yaml", "--format", "json"]);
      expect(plan.stderr).toBe("");
      expect(plan.code).toBe(0);
      const hosts = JSON.parse(plan.stdout).hosts as Array<{ host: string; operations: Array<{ resource: string; property: string; kind: string }> }>;
      expect(hosts.map((h) => h.host).sort()).toEqual(["esx-01", "esx-02", "esx-03", "esx-04"]);
      expect(hosts.find((h) => h.host === "esx-04")?.operations).toMatchObject([{ resource: "esx-04-nic1", property: "hostPrivilege", kind: "dpu-reboot" }]);
      expect(hosts.filter((h) => h.host !== "esx-04").flatMap((h) => h.operations)).toEqual([]);
      // r1 alone shows its hosts and does not see r2's drift; a part without a stack is named, with what creates it.
      const r1 = await smartfleet(project, ["plan", "stacks/racks.yaml", "--shard", "r1", "--format", "json"]);
      expect(r1.code).toBe(0);
      const r1Hosts = JSON.parse(r1.stdout).hosts as Array<{ host: string; operations: unknown[] }>;
      expect(r1Hosts.map((h) => h.host).sort()).toEqual(["esx-01", "esx-03"]);
      expect(r1Hosts.flatMap((h) => h.operations)).toEqual([]);
      const noStacks = await smartfleet(project, ["plan", "stacks/racks.yaml", "--stack", "other"]);
      expect(noStacks.code).toBe(2);
      expect(noStacks.stderr).toMatch(/cannot open stack 'other\.(r1|r2|cross-shard)'.*`smartfleet preview stacks\/racks\.yaml` creates a sharded stack's missing parts/);
    } finally {
      await drift(emulator, serial, { kind: "hostPrivilege", value: "restricted" });
    }

    // Destroy takes the cross-shard pair and share away before any shard's DPUs.
    const destroy = await smartfleet(project, ["destroy", "stacks/racks.yaml"]);
    expect(destroy.code).toBe(0);
    const gone = destroy.stdout.split("\n");
    const crossDone = gone.findIndex((l) => / cross-shard\s+destroy done/.test(l));
    expect(crossDone).toBeGreaterThanOrEqual(0);
    expect(crossDone).toBeLessThan(gone.findIndex((l) => / r1\s+destroy started/.test(l)));
    expect(crossDone).toBeLessThan(gone.findIndex((l) => / r2\s+destroy started/.test(l)));
    expect(countFleet(await fleetState(emulator))).toMatchObject({ services: 0, hostDevices: 0, servicePairs: 0, acceleratorShares: 0 });
    expect((await pulumiCli(project, ["stack", "--show-name", "--non-interactive"])).trim()).toBe("lab");
  }, 240_000);

  it("on a file backend the front door runs recover's check first: a dead run's lock is removed, a live one stops it", async () => {
    const fileBackend = { PULUMI_BACKEND_URL: `file://${project.sandbox.backendDir}` };
    await pulumiCliWith(project, fileBackend, ["stack", "init", "filelab"]);
    await pulumiCliWith(project, fileBackend, ["config", "set", "smartfleet:stackFile", stackFile, "--stack", "filelab"]);
    const locks = path.join(project.sandbox.backendDir, ".pulumi", "locks", "organization", "smartfleet", "filelab");
    fs.mkdirSync(locks, { recursive: true });
    const lock = (pid: number) => JSON.stringify({ pid, username: "root", hostname: os.hostname(), timestamp: new Date().toISOString() });

    // A pid no process has: the lock of a run that died.
    fs.writeFileSync(path.join(locks, "dead.json"), lock(4_000_000));
    const refresh = await smartfleet(project, ["refresh", stackFile, "--stack", "filelab"], fileBackend);
    expect(refresh.code).toBe(0);
    expect(refresh.stderr).toContain("smartfleet refresh: before starting filelab, removed the lock of pid 4000000");
    expect(refresh.stdout).toMatch(/^refresh of filelab done in [\d.]+s: 0 changed, 0 unchanged$/m);
    expect(fs.readdirSync(locks)).toEqual([]);

    // A live process whose command line says pulumi: an update that is running.
    const holder = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)", "pulumi"], { stdio: "ignore" });
    try {
      await new Promise((resolve) => setTimeout(resolve, 200));
      fs.writeFileSync(path.join(locks, "live.json"), lock(holder.pid as number));
      const up = await smartfleet(project, ["up", stackFile, "--stack", "filelab"], fileBackend);
      expect(up.code).toBe(1);
      expect(up.stderr).toContain(`left the lock of pid ${holder.pid}`);
      expect(up.stderr).toContain("is alive: an update is running");
      expect(fs.existsSync(path.join(locks, "live.json"))).toBe(true);
    } finally {
      holder.kill("SIGKILL");
    }
  }, 120_000);

  it("a wrong password and a server that is not there are said so, without the password", async () => {
    const wrong = new URL(url);
    wrong.password = "not-the-password";
    const refused = await smartfleet(project, ["preview", stackFile], { PULUMI_BACKEND_URL: wrong.toString() });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`the PostgreSQL server at 127.0.0.1:${port} refused the password of user 'smartfleet'`);
    expect(refused.stderr).not.toContain("not-the-password");

    const gone = new URL(url);
    gone.port = "1";
    gone.password = "some-secret";
    const unreachable = await smartfleet(project, ["preview", stackFile], { PULUMI_BACKEND_URL: gone.toString() });
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain("nothing answers at 127.0.0.1:1: the PostgreSQL server is not running or not reachable");
    expect(unreachable.stderr).not.toContain("some-secret");

    const status = await smartfleet(project, ["db", "status", "--url", wrong.toString()]);
    expect(status.code).toBe(1);
    expect(status.stderr).toContain("refused the password of user 'smartfleet'");
  }, 120_000);
});
