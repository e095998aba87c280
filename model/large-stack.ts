/**
 * Generates a large, policy-clean fleet inventory and stack (e.g. 1,000 DPUs) for timing
 * `smartfleet check` and for tests that need scale. Deterministic: the same size gives the
 * same files.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The files written. */
export interface LargeStackFiles {
  /** The inventory. */
  fleetFile: string;
  /** The stack referring to it. */
  stackFile: string;
  /** DPUs in the stack. */
  dpus: number;
}

const SHA = (c: string) => c.repeat(64);

function address(index: number): string {
  return `127.${1 + Math.floor(index / 65536)}.${Math.floor(index / 256) % 256}.${index % 256}`;
}

/**
 * Writes `fleet.yaml` and `stack.yaml` into `dir`: `dpus / 2` hosts with two BlueField-3
 * DPUs each, ESXi on host and DPUs, two services and a vNIC per DPU, a witness pair per
 * pair of hosts, and a security-edge component over the first hosts.
 */
export function writeLargeStack(dir: string, dpus = 1000): LargeStackFiles {
  const hostCount = Math.ceil(dpus / 2);
  const fleet: string[] = [
    "apiVersion: smartfleet.dev/v1",
    "kind: Fleet",
    `metadata: { name: large-${dpus} }`,
    "images:",
    `  - { name: esxi-arm, version: "8.0.3", uri: "https://images.example/esxi-arm.bfb", sha256: "${SHA("a")}" }`,
    `  - { name: esxi-x86, version: "8.0.3", uri: "https://images.example/esxi-x86.iso", sha256: "${SHA("b")}" }`,
    "hosts:",
  ];
  const stack: string[] = [
    "apiVersion: smartfleet.dev/v1",
    "kind: Stack",
    `metadata: { name: large-${dpus}, owner: perf }`,
    "inventory: fleet.yaml",
    "hosts:",
  ];
  let dpuIndex = 0;
  const edgeHosts: string[] = [];
  for (let h = 0; h < hostCount; h++) {
    const host = `host-${String(h).padStart(4, "0")}`;
    const nicsHere = Math.min(2, dpus - dpuIndex);
    fleet.push(`  - { name: ${host}, serial: S${h}, vendor: ${["dell", "hpe", "lenovo"][h % 3]}, model: R760, cpus: 64, memoryGiB: 512, smartnics: [`);
    const edge = h < 50;
    if (edge) edgeHosts.push(host);
    stack.push(`  ${host}:`, `    os: { image: esxi-x86, version: "8.0.3", installVia: nic1 }`, "    smartnics:");
    for (let n = 1; n <= nicsHere; n++, dpuIndex++) {
      fleet.push(
        `      { name: nic${n}, serial: D${dpuIndex}, slot: ${n}, vendor: nvidia, model: bluefield-3, armCores: 16, memoryGiB: 32, management: { address: ${address(dpuIndex + 1)} }, factoryCredentials: { username: root, password: 0penBmc } },`,
      );
      // The edge component restricts nic1 of the edge hosts itself; saying it twice would conflict.
      const restrictHere = !(edge && n === 1);
      stack.push(
        `      nic${n}:`,
        `        mode: dpu`,
        ...(restrictHere ? [`        hostPrivilege: restricted`] : []),
        `        os: { image: esxi-arm, version: "8.0.3", hostname: ${host}-nic${n}, cluster: c${Math.floor(h / 16)} }`,
        "        services:",
        `          dfw: { type: nsx-dfw, version: "4.2.1", cores: 2, memoryGiB: 4, config: { defaultAction: drop } }`,
        `          vsan: { type: vsan-storage, version: "8.0.3", cores: 2, memoryGiB: 4 }`,
        "        devices:",
        "          vnic0: { kind: vnic, backing: { service: dfw } }",
      );
    }
    fleet.push("    ]}");
  }
  stack.push("servicePairs:");
  for (let h = 0; h + 1 < hostCount; h += 2) {
    const a = `host-${String(h).padStart(4, "0")}`;
    const b = `host-${String(h + 1).padStart(4, "0")}`;
    stack.push(`  witness-${h}: { service: { type: vsan-witness, version: "8.0.3", cores: 1, memoryGiB: 2 }, primary: ${a}/nic1, secondary: ${b}/nic1 }`);
  }
  stack.push("components:", `  - use: security-edge@^1`, `    with: { hosts: [${edgeHosts.join(", ")}] }`);
  fs.mkdirSync(dir, { recursive: true });
  const fleetFile = path.join(dir, "fleet.yaml");
  const stackFile = path.join(dir, "stack.yaml");
  fs.writeFileSync(fleetFile, fleet.join("\n") + "\n");
  fs.writeFileSync(stackFile, stack.join("\n") + "\n");
  return { fleetFile, stackFile, dpus: dpuIndex };
}
