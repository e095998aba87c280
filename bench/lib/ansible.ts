// The peer: Ansible's community.general Redfish modules (Debian's `ansible` package)
// making the same fleet-wide change against the same emulator. What the modules can
// and cannot do is written down in bench/README.md ("The Ansible peer").
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { DpuEndpoint, EndpointsFile } from "../../schemas/generated/endpoints";

/** The collection's modules live here when Debian's `ansible` package is installed. */
function collectionVersion(): string | null {
  const res = spawnSync("ansible-galaxy", ["collection", "list", "community.general"], { encoding: "utf8" });
  if (res.status !== 0) return null;
  const match = /community\.general\s+(\S+)/.exec(res.stdout);
  return match ? match[1] : null;
}

function ansibleCoreVersion(): string | null {
  const res = spawnSync("ansible-playbook", ["--version"], { encoding: "utf8" });
  if (res.status !== 0) return null;
  return /core ([\d.]+)/.exec(res.stdout)?.[1] ?? null;
}

/**
 * Makes sure `ansible-playbook` and `community.general` are present: when missing,
 * installs Debian's `ansible` package (apt-get, needs root) and says so. Returns the
 * versions found.
 */
export function ensureAnsible(log: (line: string) => void): { ansibleCore: string; communityGeneral: string; debianAnsible: string | null } {
  let core = ansibleCoreVersion();
  let general = core ? collectionVersion() : null;
  if (!core || !general) {
    if (process.getuid?.() !== 0) throw new Error("Ansible is missing and installing Debian's `ansible` package needs root: run `apt-get install -y ansible` first");
    log("Ansible (or community.general) is missing: installing Debian's `ansible` package with apt-get");
    for (const args of [["update"], ["install", "-y", "--no-install-recommends", "ansible"]]) {
      const res = spawnSync("apt-get", args, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
      if (res.status !== 0) throw new Error(`apt-get ${args.join(" ")} failed (${res.status})`);
    }
    core = ansibleCoreVersion();
    general = collectionVersion();
    if (!core || !general) throw new Error("after installing Debian's `ansible`, ansible-playbook or community.general is still missing");
  }
  const debian = spawnSync("dpkg-query", ["-W", "-f", "${Version}", "ansible"], { encoding: "utf8" });
  return { ansibleCore: core, communityGeneral: general, debianAnsible: debian.status === 0 ? debian.stdout.trim() : null };
}

/** The inventory and playbook `writePlaybook` wrote. */
export interface PlaybookFiles {
  inventory: string;
  playbook: string;
}

/**
 * Writes the inventory (one Ansible host per DPU, local connection, the DPU system's
 * Redfish id) and the playbook: `redfish_config SetBiosAttributes` on the DPU system's
 * Bios (the module PATCHes the @Redfish.Settings object), then `redfish_command
 * PowerGracefulRestart` of the DPU system when the attribute changed — what a
 * host-privilege change needs on a BlueField.
 */
export function writePlaybook(dir: string, endpoints: EndpointsFile, username: string): PlaybookFiles {
  fs.mkdirSync(dir, { recursive: true });
  const hosts = endpoints.dpus.map((d) => `    ${d.serial}: { baseuri: "${new URL(d.url).host}", dpu_system: ${systemIdOf(d)} }`);
  const inventory = ["all:", "  vars:", "    ansible_connection: local", "    ansible_python_interpreter: /usr/bin/python3", `    redfish_user: ${username}`, "  hosts:", ...hosts, ""].join("\n");
  const playbook = [
    "- name: set the host privilege of every DPU and reboot it to apply",
    "  hosts: all",
    "  gather_facts: false",
    "  tasks:",
    "    - name: stage HostPrivilegeLevel in the DPU system's Bios settings",
    "      community.general.redfish_config:",
    "        category: Systems",
    "        command: SetBiosAttributes",
    "        resource_id: \"{{ dpu_system }}\"",
    "        bios_attributes: { HostPrivilegeLevel: \"{{ privilege }}\" }",
    "        baseuri: \"{{ baseuri }}\"",
    "        username: \"{{ redfish_user }}\"",
    "        password: \"{{ lookup('env', 'BENCH_REDFISH_PASSWORD') }}\"",
    "        timeout: 60",
    "      register: bios",
    "    - name: reboot the DPU so the setting takes effect",
    "      community.general.redfish_command:",
    "        category: Systems",
    "        command: PowerGracefulRestart",
    "        resource_id: \"{{ dpu_system }}\"",
    "        baseuri: \"{{ baseuri }}\"",
    "        username: \"{{ redfish_user }}\"",
    "        password: \"{{ lookup('env', 'BENCH_REDFISH_PASSWORD') }}\"",
    "        timeout: 60",
    "      when: bios.changed",
    "",
  ].join("\n");
  fs.writeFileSync(path.join(dir, "inventory.yml"), inventory);
  fs.writeFileSync(path.join(dir, "change.yml"), playbook);
  return { inventory: path.join(dir, "inventory.yml"), playbook: path.join(dir, "change.yml") };
}

/** The Redfish id of the DPU's own system per vendor (emulator/PROTOCOL.md, "Identity per vendor"). */
function systemIdOf(dpu: DpuEndpoint): string {
  return ({ nvidia: "Bluefield", amd: "Card1-SoC", intel: "IPU" } as Record<string, string | undefined>)[dpu.vendor ?? ""] ?? "Bluefield";
}

/**
 * Runs the playbook setting `privilege` (`Privileged`|`Restricted`) with `forks`
 * (undefined: Ansible's default) and returns the seconds it took. Fails when any host failed.
 */
export async function runChange(files: PlaybookFiles, { privilege, forks, password, logFile }: { privilege: string; forks?: number; password: string; logFile: string }): Promise<number> {
  const args = ["-i", files.inventory, files.playbook, "-e", `privilege=${privilege}`, ...(forks ? ["-f", String(forks)] : [])];
  const out = fs.openSync(logFile, "a");
  fs.writeSync(out, `\n$ ansible-playbook ${args.join(" ")}\n`);
  const env = { ...process.env, BENCH_REDFISH_PASSWORD: password, ANSIBLE_HOST_KEY_CHECKING: "False", ANSIBLE_RETRY_FILES_ENABLED: "False", ANSIBLE_NOCOLOR: "1" };
  const started = process.hrtime.bigint();
  const child = spawn("ansible-playbook", args, { env, stdio: ["ignore", out, out] });
  fs.closeSync(out);
  const code = await new Promise<number | NodeJS.Signals | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (c, signal) => resolve(c ?? signal));
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (code !== 0) {
    const tail = fs.readFileSync(logFile, "utf8").split("\n").slice(-30).join("\n");
    throw new Error(`ansible-playbook exited with ${code} (log ${logFile}):\n${tail}`);
  }
  return seconds;
}
