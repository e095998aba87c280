/**
 * A team declaring its part of the fleet from TypeScript instead of YAML: the stack and the
 * inventory are typed values (the same documents the YAML files hold, typed from
 * `schemas/generated/`), validated and checked exactly like files, then declared through
 * the same mapping as the YAML program. Here: two ESXi hosts whose DPUs run the NSX
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
import { loadStackDocuments, type StackDocument } from "../../model/load";
import type { FleetInventory } from "../../model/inventory";
import type { SmartnicSpec } from "../../schemas/generated/stack";
import { declareStack } from "../../stacks/fleet";

const config = new pulumi.Config("smartfleet");

const ESXI_ARM = { name: "esxi-arm", version: "8.0.3", uri: "http://images.lab/esxi-arm-8.0.3.bfb", sha256: "d27865cd18cc5308e3d9107466eb17c82a873061f95349394745a0bb8f00f493" };

/** Two Dell servers with one BlueField-3 each, as the lab inventory lists them. */
const inventory: FleetInventory = {
  apiVersion: "smartfleet.dev/v1",
  kind: "Fleet",
  metadata: { name: "team-east" },
  images: [ESXI_ARM],
  hosts: [1, 3].map((n, i) => ({
    name: `esx-0${i + 1}`,
    serial: `DL760-000${i + 1}`,
    vendor: "dell" as const,
    model: "PowerEdge R760",
    cpus: 64,
    memoryGiB: 512,
    smartnics: [
      {
        name: "nic1",
        serial: `MT2334X0000${n}`,
        slot: 1,
        vendor: "nvidia" as const,
        model: "bluefield-3" as const,
        armCores: 16,
        memoryGiB: 32,
        management: { address: `127.0.1.${n}`, port: 8443 },
        factoryCredentials: { username: "root", password: "0penBmc" },
      },
    ],
  })),
};

/** A DPU running the distributed firewall, with a vNIC it backs. */
function firewallDpu(host: string): SmartnicSpec {
  return {
    mode: "dpu",
    hostPrivilege: "restricted",
    os: { image: ESXI_ARM.name, version: ESXI_ARM.version, hostname: `${host}-nic1`, ntp: [] },
    services: { dfw: { type: "nsx-dfw", version: "4.2.1", cores: 4, memoryGiB: 8, config: { defaultAction: "drop" } } },
    devices: { vnic0: { kind: "vnic", function: "vf", backing: { service: "dfw" } } },
  };
}

const stack: StackDocument = {
  apiVersion: "smartfleet.dev/v1",
  kind: "Stack",
  metadata: { name: "team-east", owner: "platform-team" },
  hosts: {
    "esx-01": { smartnics: { nic1: firewallDpu("esx-01") } },
    "esx-02": { smartnics: { nic1: firewallDpu("esx-02") } },
  },
  servicePairs: {
    witness: { service: { type: "vsan-witness", version: "8.0.3", cores: 2, memoryGiB: 4 }, primary: "esx-01/nic1", secondary: "esx-02/nic1" },
  },
};

const fleet = declareStack(loadStackDocuments(stack, inventory, { name: "team-east" }), { password: config.requireSecret("managementPassword") });

/** Per host: DPUs, OS versions, services and host PCI addresses. */
export const hosts = fleet.hosts;
/** Whether the witness is protected. */
export const witnessProtected = fleet.servicePairs.apply((pairs) => pairs.witness.protected);
