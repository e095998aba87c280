/**
 * Test support for the real Pulumi CLI through the Automation API: every e2e test gets
 * its own file backend, PULUMI_HOME and passphrase under a temp dir, and the CLI that
 * scripts/toolchain.sh put first on PATH (`npm test` runs inside it).
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";

/** The repository root. */
export const repoRoot = path.resolve(__dirname, "..", "..");

/** Absolute path of the `pulumi` executable the toolchain provides. */
export function pulumiExecutable(): string {
  const found = execFileSync("sh", ["-c", "command -v pulumi"], { encoding: "utf8" }).trim();
  if (!found) throw new Error("pulumi is not on PATH: run tests through `npm test` (scripts/with-toolchain.sh)");
  return fs.realpathSync(found);
}

/** A throwaway Pulumi environment: backend, home and secrets passphrase in one temp dir. */
export interface PulumiSandbox {
  dir: string;
  backendDir: string;
  envVars: Record<string, string>;
  command: PulumiCommand;
  cleanup(): void;
}

/** Makes a sandbox; call `cleanup()` when done. */
export async function makeSandbox(prefix = "smartfleet-e2e-"): Promise<PulumiSandbox> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const backendDir = path.join(dir, "state");
  fs.mkdirSync(backendDir);
  const exe = pulumiExecutable();
  const command = await PulumiCommand.get({ root: path.dirname(path.dirname(exe)), skipVersionCheck: false });
  const envVars = {
    PULUMI_BACKEND_URL: `file://${backendDir}`,
    PULUMI_HOME: path.join(dir, "home"),
    PULUMI_CONFIG_PASSPHRASE: "smartfleet-test-passphrase",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
  };
  return { dir, backendDir, envVars, command, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Creates (or selects) a stack for the local program in `workDir`. */
export async function localStack(sandbox: PulumiSandbox, workDir: string, stackName: string): Promise<Stack> {
  return LocalWorkspace.createOrSelectStack(
    { stackName, workDir },
    { pulumiCommand: sandbox.command, envVars: sandbox.envVars },
  );
}

/** Reads the checkpoint (state file) of a stack in the sandbox's file backend. */
export function readCheckpoint(sandbox: PulumiSandbox, project: string, stack: string): CheckpointFile {
  const file = path.join(sandbox.backendDir, ".pulumi", "stacks", project, `${stack}.json`);
  return JSON.parse(fs.readFileSync(file, "utf8")) as CheckpointFile;
}

/** The parts of a Pulumi checkpoint file the tests look at. */
export interface CheckpointFile {
  checkpoint: {
    latest?: {
      resources?: Array<{
        urn: string;
        type: string;
        id?: string;
        inputs?: Record<string, unknown>;
        outputs?: Record<string, unknown>;
      }>;
    };
  };
}
