/**
 * Stacks the commands act on without selecting them. The Automation API's `selectStack`
 * and `createOrSelectStack` run `pulumi stack select`, which makes the stack the one the
 * user's own `pulumi` commands in this project act on from then on: `smartfleet up
 * STACKFILE` of a sharded stack would leave the user on its last shard. Every command a
 * `Stack` runs names its stack with `--stack`, so none of them needs the selection.
 */
import { spawn } from "node:child_process";
import { LocalWorkspace, Stack } from "@pulumi/pulumi/automation";

/** What a `pulumi` run came to. */
export interface PulumiRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the workspace's `pulumi` in its folder with its environment, as its own commands
 * run; stopped by `signal` with SIGINT, as the Automation API stops a command (Pulumi
 * cancels and stops its plugins). Resolves whatever the exit code.
 */
export function runInWorkspace(workspace: Pick<LocalWorkspace, "pulumiCommand" | "pulumiHome" | "envVars" | "workDir">, args: string[], signal?: AbortSignal): Promise<PulumiRun> {
  const env = { ...process.env, ...(workspace.pulumiHome ? { PULUMI_HOME: workspace.pulumiHome } : {}), ...workspace.envVars };
  return new Promise((resolve, reject) => {
    const child = spawn(workspace.pulumiCommand.command, [...args, "--non-interactive"], { cwd: workspace.workDir, env, signal, killSignal: "SIGINT", stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", reject);
    child.on("close", (code, sig) => resolve({ code: code ?? (sig ? 128 : 1), stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8") }));
  });
}

/**
 * Stack `name` of the workspace's project, not selected and not looked up: a stack the
 * backend does not have fails the first command that names it ("no stack named").
 * The workspace selects nothing from then on; give each stack a workspace of its own.
 */
export function namedStack(workspace: LocalWorkspace, name: string): Promise<Stack> {
  // Stack.select only asks the workspace to select the stack, and awaits that.
  workspace.selectStack = async () => undefined;
  return Stack.select(name, workspace);
}

/**
 * Makes sure the backend has stack `name` (`stack init --no-select`; "already exists" is
 * fine). One `pulumi` run, about 0.5 s of a 2-core machine whether or not it creates
 * anything.
 */
export async function ensureStack(workspace: Pick<LocalWorkspace, "pulumiCommand" | "pulumiHome" | "envVars" | "workDir">, name: string): Promise<void> {
  const init = await runInWorkspace(workspace, ["stack", "init", "--no-select", name]);
  if (init.code !== 0 && !/stack .* already exists/.test(init.stderr)) throw new Error(init.stderr || init.stdout);
}
