/**
 * A team declaring its part of the fleet from TypeScript instead of YAML, with the same
 * component classes the YAML program uses: two ESXi hosts whose DPUs run the NSX
 * distributed firewall, and a vSAN witness protected across them.
 *
 * Build with `npm run build` at the repository root (Pulumi.yaml here points at the
 * compiled file), then run `pulumi up` in this folder. The configuration is the YAML
 * program's: smartfleet:endpoints (or smartfleet:caFile) and the secret
 * smartfleet:managementPassword. The providers resolve relative paths against the
 * repository root (the nearest Pulumi.yaml above dist/), e.g.
 * `pulumi config set smartfleet:endpoints .smartfleet/emulator/lab/endpoints.json`.
 */
import * as pulumi from "@pulumi/pulumi";
import { declareFleet, type DpuDeclaration } from "../../providers/components";

const config = new pulumi.Config("smartfleet");

/** One BlueField-3 of the lab fleet (examples/lab/fleet.yaml) running the distributed firewall. */
function firewallDpu(host: string, serial: string, address: string): DpuDeclaration {
  return {
    name: "nic1",
    target: { host, smartnic: "nic1", serial, address, port: 8443 },
    hardware: { vendor: "nvidia", model: "bluefield-3", slot: 1, armCores: 16, memoryGiB: 32 },
    username: "root",
    factoryPassword: config.getSecret("factoryPassword") ?? pulumi.secret("0penBmc"),
    mode: "dpu",
    hostPrivilege: "restricted",
    os: {
      image: "esxi-arm",
      version: "8.0.3",
      uri: "http://images.lab/esxi-arm-8.0.3.bfb",
      sha256: "d27865cd18cc5308e3d9107466eb17c82a873061f95349394745a0bb8f00f493",
      hostname: `${host}-nic1`,
    },
    services: { dfw: { type: "nsx-dfw", version: "4.2.1", cores: 4, memoryGiB: 8, config: { defaultAction: "drop" } } },
    devices: { vnic0: { kind: "vnic", function: "vf", backingService: "dfw" } },
  };
}

const fleet = declareFleet({
  hosts: [
    { name: "esx-01", serial: "DL760-0001", hardware: { vendor: "dell", model: "PowerEdge R760", cpus: 64, memoryGiB: 512 }, smartnics: [firewallDpu("esx-01", "MT2334X00001", "127.0.1.1")] },
    { name: "esx-02", serial: "DL760-0002", hardware: { vendor: "dell", model: "PowerEdge R760", cpus: 64, memoryGiB: 512 }, smartnics: [firewallDpu("esx-02", "MT2334X00003", "127.0.1.3")] },
  ],
  servicePairs: { witness: { service: { type: "vsan-witness", version: "8.0.3", cores: 2, memoryGiB: 4, config: {} }, primary: "esx-01/nic1", secondary: "esx-02/nic1" } },
  password: config.requireSecret("managementPassword"),
  allowHostPowerCycle: false,
});

/** Per host: DPUs, OS versions, services and host PCI addresses. */
export const hosts = pulumi.all(Object.fromEntries(Object.entries(fleet.hosts).map(([name, host]) => [name, host.summary()])));
/** Whether the witness is protected. */
export const witnessProtected = fleet.servicePairs.witness.protected;
