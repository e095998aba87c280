/**
 * Team state in PostgreSQL: `smartfleet db start` brings up a local cluster (Debian's
 * postgresql, as the postgres account when we are root) in the sandbox, and the lab stack
 * runs through `smartfleet up|preview|refresh` against the emulated fleet with Pulumi's
 * postgres:// backend: the fleet converges, the state is rows in PostgreSQL (nothing in
 * the file backend), `pulumi stack export` is valid; two concurrent `smartfleet up` of one
 * stack: one applies, the other reports the lock; a wrong password or a server that is
 * not there is said in those words, the password never printed; `db stop` ends the server.
 * Address block 127.211.0.x.
 */
import { execFile, execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningEmulator } from "../../emulator";
import { countFleet, editStackFile, endpointsFileOf, fleetState, LAB_COUNTS, labStack, makeLabProject, pulumiCli, startLabEmulator, type LabProject } from "./lab";
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

    const exported = JSON.parse(await pulumiCli(project, ["stack", "export", "--stack", "lab"])) as { version: number; deployment: { resources: Array<{ type: string }>; pending_operations?: unknown[] } };
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
