/**
 * A team shares a stack's secrets (README "Toolchain", "A team's secrets"): the ciphertext
 * in a committed `Pulumi.<stack>.yaml` is made with a passphrase every member has in a
 * file outside the repository, named by PULUMI_CONFIG_PASSPHRASE_FILE. Two clones (copies
 * of the project with their own `.smartfleet/`, backend and Pulumi home) run the project's
 * own `scripts/with-toolchain.sh pulumi`, which is what `npm run pulumi --` runs: the second
 * clone inits the stack from the first's committed settings and reads the secret back. The
 * contrast: a clone on its own generated passphrase cannot init that stack.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../support/pulumi";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "sf-team-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A clone: the files `pulumi` needs (project, scripts, stack settings), node_modules linked. */
function clone(name: string): string {
  const dir = path.join(root, name);
  for (const entry of ["Pulumi.yaml", "package.json", "scripts", "stacks/Pulumi.lab.yaml"]) {
    fs.cpSync(path.join(repoRoot, entry), path.join(dir, entry), { recursive: true });
  }
  fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(dir, "node_modules"), "dir");
  return dir;
}

/** `npm run pulumi -- ARGS` in a clone, with a person's environment (none of the test run's Pulumi settings). */
function pulumi(dir: string, args: string[], extra: Record<string, string> = {}) {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(PULUMI_|SMARTFLEET_)/.test(k)) env[k] = v;
  return spawnSync(path.join(dir, "scripts", "with-toolchain.sh"), ["pulumi", ...args], { cwd: dir, env: { ...env, ...extra }, encoding: "utf8", timeout: 120_000 });
}

describe("a team's secrets", () => {
  it("a secret committed from one clone is read in another through a shared passphrase file", () => {
    const shared = path.join(root, "team.passphrase");
    fs.writeFileSync(shared, "a team passphrase kept outside the repository\n", { mode: 0o600 });
    const team = { PULUMI_CONFIG_PASSPHRASE_FILE: shared };

    const first = clone("first");
    const init = pulumi(first, ["stack", "init", "lab"], team);
    expect(init.status, init.stderr).toBe(0);
    const set = pulumi(first, ["config", "set", "--secret", "smartfleet:managementPassword", "Team-Secret-1", "--stack", "lab"], team);
    expect(set.status, set.stderr).toBe(0);
    const committed = fs.readFileSync(path.join(first, "stacks", "Pulumi.lab.yaml"), "utf8");
    expect(committed).toMatch(/encryptionsalt: /);
    expect(committed).toMatch(/smartfleet:managementPassword:\s*\n\s*secure: /);
    expect(committed).not.toContain("Team-Secret-1");
    expect(fs.existsSync(path.join(first, ".smartfleet", "passphrase"))).toBe(false); // the shared file, not a generated one

    // "git pull" in the second clone: the committed settings arrive, nothing else does.
    const second = clone("second");
    fs.writeFileSync(path.join(second, "stacks", "Pulumi.lab.yaml"), committed);
    const init2 = pulumi(second, ["stack", "init", "lab"], team);
    expect(init2.status, init2.stderr).toBe(0);
    const get = pulumi(second, ["config", "get", "smartfleet:managementPassword", "--stack", "lab"], team);
    expect(get.status, get.stderr).toBe(0);
    expect(get.stdout.trim()).toBe("Team-Secret-1");

    // Without the shared file a clone makes its own passphrase, and the committed ciphertext is not its.
    const loner = clone("loner");
    fs.writeFileSync(path.join(loner, "stacks", "Pulumi.lab.yaml"), committed);
    const refused = pulumi(loner, ["stack", "init", "lab"]);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr + refused.stdout).toMatch(/incorrect passphrase/i);
  }, 300_000);
});
