import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as https from "node:https";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "@pulumi/pulumi/automation";
import type { RunningEmulator } from "../../emulator";
import { claimAccount } from "../../providers/redfish";
import { makeOperatorCa, type CaFiles } from "../support/operator-ca";
import { repoRoot } from "../support/pulumi";
import { endpointsFileOf, labStack, makeLabProject, startLabEmulator, type LabProject } from "./lab";

/** What a run of the CLI printed and returned. */
interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * `smartfleet certs rotate` as a user runs it, in the project, against the emulated lab
 * fleet: the real CLI (a child process) reading the stack's configuration through the real
 * Pulumi CLI (no `up`: the test claims the managed DPUs' accounts as the SmartNic provider
 * would). A CA key of another certificate changes nothing; a dry run neither; one DPU, then
 * the rest, are rotated, the stack is told to trust a bundle of both CAs in between and the
 * operator's CA alone at the end; afterwards a client trusting only the operator's CA reads
 * every managed port and one trusting only the emulator's CA reads none.
 */
describe("smartfleet certs rotate against the emulated lab fleet", () => {
  let project: LabProject;
  let emulator: RunningEmulator;
  let stack: Stack;
  let op: CaFiles;
  let caCertFile: string;
  let caKeyFile: string;
  /** `host/nic` → URL of every managed DPU's port. */
  let managed: Array<{ id: string; serial: string; url: string; username: string }>;

  const certs = (args: string[]): Promise<CliRun> =>
    new Promise((resolve) => {
      execFile(
        process.execPath,
        [path.join(repoRoot, "dist", "cli", "main.js"), "certs", "rotate", project.stackFile, "--stack", "certs", "--ca-cert", caCertFile, ...args],
        { cwd: project.workDir, env: { ...process.env, ...project.sandbox.envVars, SMARTFLEET_ROOT: repoRoot }, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });

  /** GET /redfish/v1/Managers on a port over a new connection trusting `caPem` only: the status, or the TLS error. */
  const read = (port: (typeof managed)[number], caPem: string): Promise<number | string> =>
    new Promise((resolve) => {
      const auth = `Basic ${Buffer.from(`${port.username}:${project.managementPassword}`).toString("base64")}`;
      const req = https.get(`${port.url}/redfish/v1/Managers`, { ca: caPem, agent: false, headers: { Authorization: auth } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    });

  beforeAll(async () => {
    project = await makeLabProject("127.218.0");
    emulator = await startLabEmulator(project);
    stack = await labStack(project, "certs", endpointsFileOf(project));
    const unmanaged = project.serials["esx-04/nic2"];
    managed = emulator.endpoints.dpus
      .filter((d) => d.serial !== unmanaged)
      .map((d) => ({ id: Object.entries(project.serials).find(([, s]) => s === d.serial)?.[0] ?? d.serial, serial: d.serial, url: d.url, username: d.factoryUsername }));
    for (const d of managed) {
      await claimAccount({ url: d.url, caPem: emulator.caPem, username: d.username }, project.factoryPasswords[d.serial], project.managementPassword, { lockoutWaitMs: 0 });
    }
    op = await makeOperatorCa("Example Ops Root CA");
    caCertFile = path.join(project.sandbox.dir, "ops-ca.pem");
    caKeyFile = path.join(project.sandbox.dir, "ops-ca-key.pem");
    fs.writeFileSync(caCertFile, op.certPem);
    fs.writeFileSync(caKeyFile, op.keyPem, { mode: 0o600 });
  });

  afterAll(async () => {
    await emulator?.stop();
    project?.cleanup();
  });

  it("a CA key of another certificate: exit 2, says so, and no port changes", async () => {
    const other = await makeOperatorCa("Other CA");
    const otherKey = path.join(project.sandbox.dir, "other-key.pem");
    fs.writeFileSync(otherKey, other.keyPem, { mode: 0o600 });
    const run = await certs(["--ca-key", otherKey]);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe("smartfleet certs rotate: the CA key does not match the CA certificate (CN=Example Ops Root CA, O=Example Ops): it is the key of another certificate; no port was touched\n");
    expect(run.stdout).toBe("");
    for (const d of managed) expect(await read(d, emulator.caPem)).toBe(200);
  });

  it("a dry run names every managed port and changes nothing", async () => {
    const run = await certs(["--ca-key", caKeyFile, "--dry-run"]);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines.filter((l) => l.endsWith(": would rotate (it presents a certificate not from CN=Example Ops Root CA, O=Example Ops)"))).toHaveLength(5);
    expect(lines.at(-1)).toBe("5 would rotate, 0 skipped, 0 failed of 5 ports (dry run: nothing changed)");
    for (const d of managed) expect(await read(d, emulator.caPem)).toBe(200);
  });

  it("one DPU first: the stack is set to trust a bundle of both CAs while the others keep the old certificate", async () => {
    const first = managed[0];
    const run = await certs(["--ca-key", caKeyFile, "--dpu", first.serial, "--days", "30"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${first.id} (${first.serial}) ${first.url}: rotated, valid until `);
    expect(run.stdout).toContain("1 rotated, 0 skipped, 0 failed of 1 ports\n");
    // Without --set-config: what to run, word for word.
    const oldCa = path.join(project.emulatorDir, "ca.pem");
    expect(run.stdout).toContain(
      `4 managed port(s) still present the old certificate (${managed.slice(1).map((d) => d.serial).join(", ")}): the stack must trust both CAs until they are rotated. Set it (or rerun with --set-config):\n` +
        `  mkdir -p .smartfleet/certs && cat ${oldCa} ${caCertFile} > .smartfleet/certs/certs-ca.pem\n` +
        "  npm run pulumi -- config set smartfleet:caFile .smartfleet/certs/certs-ca.pem --stack certs\n",
    );
    expect((await stack.getAllConfig())["smartfleet:caFile"]).toBeUndefined();
    const again = await certs(["--ca-key", caKeyFile, "--dpu", first.serial, "--days", "30", "--set-config"]);
    expect(again.stdout).toContain("0 rotated, 1 skipped, 0 failed of 1 ports\n");
    expect(again.stdout).toContain("set smartfleet:caFile to .smartfleet/certs/certs-ca.pem (a bundle of both CAs)");
    expect((await stack.getConfig("smartfleet:caFile")).value).toBe(".smartfleet/certs/certs-ca.pem");
    const trusted = fs.readFileSync(path.join(project.workDir, ".smartfleet", "certs", "certs-ca.pem"), "utf8");
    for (const d of managed) expect(await read(d, trusted)).toBe(200);
    expect(await read(first, op.certPem)).toBe(200);
    expect(await read(managed[1], op.certPem)).not.toBe(200);
  });

  it("then the rest: the stack is set to trust the operator's CA alone; only that CA reads the ports now", async () => {
    const run = await certs(["--ca-key", caKeyFile, "--days", "30", "--set-config"]);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`${managed[0].id} (${managed[0].serial}) ${managed[0].url}: skipped, already presents a certificate from this CA valid until `);
    expect(run.stdout).toContain("4 rotated, 1 skipped, 0 failed of 5 ports\n");
    expect(run.stdout).toContain(`every managed port presents a certificate from CN=Example Ops Root CA, O=Example Ops: the stack needs to trust that CA only; set smartfleet:caFile to ${caCertFile}`);
    expect((await stack.getConfig("smartfleet:caFile")).value).toBe(caCertFile);
    for (const d of managed) {
      expect(await read(d, op.certPem)).toBe(200);
      expect(await read(d, emulator.caPem)).toMatch(/UNABLE_TO_VERIFY_LEAF_SIGNATURE|certificate/i);
    }
  });

  it("a rerun skips every port and has nothing to set", async () => {
    const run = await certs(["--ca-key", caKeyFile, "--days", "30"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("0 rotated, 5 skipped, 0 failed of 5 ports\n");
    expect(run.stdout).toContain(`smartfleet:caFile (${caCertFile}) already is that`);
  });
});
