// Generated benchmark fleets: an inventory and a stack of N DPUs (N even), two DPUs per
// host, every DPU with SmartNic, DpuOs, two services and two host devices, and a vSAN
// witness pair between nic1 of every second pair of hosts. Management ports sit on
// 127.250.x.y and up, away from the addresses tests bind (127.0.x.y, 127.1.x.y).
"use strict";
const fs = require("node:fs");
const path = require("node:path");

/** The loopback address of the i-th DPU (0-based): 127.250.0.1 onwards, 250 per /24. */
function benchAddress(index) {
  const block = Math.floor(index / 250);
  return `127.${250 + Math.floor(block / 256)}.${block % 256}.${(index % 250) + 1}`;
}

/** Host name of the h-th host (0-based). */
function hostName(h) {
  return `bh-${String(h + 1).padStart(4, "0")}`;
}

/**
 * Writes `fleet.yaml` and `stack.yaml` for `dpus` DPUs into `dir` and returns their paths
 * and the resource count the stack declares. `servedSha256` comes from the built emulator
 * so the catalog's checksums match what its image server serves.
 */
function writeBenchFleet(dir, dpus, servedSha256, hostPrivilege = "restricted") {
  if (!Number.isInteger(dpus) || dpus < 2 || dpus % 2 !== 0) throw new Error(`--dpus takes an even number >= 2, got ${dpus}`);
  const hosts = dpus / 2;
  const image = (name, version, file) => {
    const uri = `http://images.bench/${file}`;
    return `  - { name: ${name}, version: "${version}", uri: "${uri}", sha256: "${servedSha256(uri)}" }`;
  };
  const fleet = ["apiVersion: smartfleet.dev/v1", "kind: Fleet", `metadata: { name: bench-${dpus} }`, "images:",
    image("esxi-arm", "8.0.3", "esxi-arm-8.0.3.bfb"), "hosts:"];
  for (let h = 0; h < hosts; h++) {
    fleet.push(`  - name: ${hostName(h)}`, `    serial: BSRV-${String(h + 1).padStart(6, "0")}`,
      `    vendor: ${["dell", "hpe", "lenovo"][h % 3]}`, "    model: R760", "    cpus: 64", "    memoryGiB: 512", "    smartnics:");
    for (let n = 0; n < 2; n++) {
      const index = h * 2 + n;
      fleet.push(`      - { name: nic${n + 1}, serial: BMT${String(index + 1).padStart(9, "0")}, slot: ${n + 1}, vendor: nvidia, model: bluefield-3, armCores: 16, memoryGiB: 32, management: { address: ${benchAddress(index)}, port: 8443 }, factoryCredentials: { username: root, password: 0penBmc } }`);
    }
  }
  fs.mkdirSync(dir, { recursive: true });
  const fleetFile = path.join(dir, "fleet.yaml");
  fs.writeFileSync(fleetFile, fleet.join("\n") + "\n");
  const stackFile = path.join(dir, "stack.yaml");
  const pairs = writeBenchStack(stackFile, dpus, hostPrivilege);
  return { fleetFile, stackFile, hosts, pairs };
}

/** Writes the stack with every DPU's host privilege set to `hostPrivilege` (the fleet-wide change flips it); returns the number of service pairs. */
function writeBenchStack(stackFile, dpus, hostPrivilege) {
  const hosts = dpus / 2;
  const lines = ["apiVersion: smartfleet.dev/v1", "kind: Stack", `metadata: { name: bench-${dpus}, owner: bench }`, "inventory: fleet.yaml", "hosts:"];
  for (let h = 0; h < hosts; h++) {
    lines.push(`  ${hostName(h)}:`, "    smartnics:");
    for (let n = 1; n <= 2; n++) {
      lines.push(
        `      nic${n}:`,
        "        mode: dpu",
        `        hostPrivilege: ${hostPrivilege}`,
        `        os: { image: esxi-arm, version: "8.0.3", hostname: ${hostName(h)}-nic${n}, cluster: c${Math.floor(h / 16)} }`,
        "        services:",
        '          dfw: { type: nsx-dfw, version: "4.2.1", cores: 2, memoryGiB: 4, config: { defaultAction: drop } }',
        '          vsan: { type: vsan-storage, version: "8.0.3", cores: 2, memoryGiB: 4 }',
        "        devices:",
        "          vnic0: { kind: vnic, function: vf, backing: { service: dfw } }",
        "          nvme0: { kind: nvme, function: pf, backing: { service: vsan } }",
      );
    }
  }
  const pairLines = [];
  // "Some service pairs": one witness pair per four hosts, nic1 of host 4k with nic1 of host 4k+1.
  for (let h = 0; h + 1 < hosts; h += 4) {
    pairLines.push(`  witness-${h / 4}: { service: { type: vsan-witness, version: "8.0.3", cores: 1, memoryGiB: 2 }, primary: ${hostName(h)}/nic1, secondary: ${hostName(h + 1)}/nic1 }`);
  }
  if (pairLines.length > 0) lines.push("servicePairs:", ...pairLines);
  lines.push("maintenance: { allowHostPowerCycle: false }");
  fs.writeFileSync(stackFile, lines.join("\n") + "\n");
  return pairLines.length;
}

module.exports = { benchAddress, hostName, writeBenchFleet, writeBenchStack };
