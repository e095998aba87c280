/** The state a DPU leaves the factory in: what a DPU new to the inventory starts from. */
import { factoryPassword } from "../../model/credentials";
import type { PlacedDpu } from "../../model/inventory";
import type { DpuState } from "../model";
import { FACTORY_COST, hashPassword } from "../secrets";

/** Factory firmware versions per vendor. */
const FACTORY_FIRMWARE: Record<string, { os: string; nic: string; bmc: string }> = {
  nvidia: { os: "DOCA_2.5.0_BSP_4.5.0_Ubuntu_22.04-1", nic: "32.39.2048", bmc: "BF-23.10-4" },
  amd: { os: "1.68.0-E-52", nic: "1.68.0-E-52", bmc: "1.3.0" },
  intel: { os: "IPU-SDK-1.6.0", nic: "1.6.0.4", bmc: "IMC-1.6.0" },
};

/** A new DPU as it leaves the factory: one Administrator that must change its password, no DPU OS. */
export function factoryState(p: PlacedDpu): DpuState {
  const cred = p.nic.factoryCredentials;
  return {
    serial: p.nic.serial,
    generation: 0,
    accounts: [{ id: cred.username, userName: cred.username, passwordHash: hashPassword(factoryPassword(p.nic), FACTORY_COST), roleId: "Administrator", passwordChangeRequired: true, enabled: true, lockedUntil: 0 }],
    sessions: [],
    bios: { mode: p.nic.factoryState?.mode ?? "dpu", hostPrivilege: p.nic.factoryState?.hostPrivilege ?? "privileged", pending: {}, modeAwaitingHostCycle: null },
    dpu: { powerState: "On", crashed: false, bootOverride: { enabled: "Disabled", target: "None", mode: "UEFI" } },
    firmware: { ...(FACTORY_FIRMWARE[p.nic.vendor] ?? FACTORY_FIRMWARE.nvidia) },
    dpuOs: { image: null, version: null, hostname: null, ntpServers: [], cluster: null, state: "Absent" },
    host: { powerState: "On", bootOverride: { enabled: "Disabled", target: "None", mode: "UEFI" }, os: null, maintenance: { state: "off", workloadsRunning: p.host.workloads?.count ?? 0 } },
    faults: { servicesFailAfterReboot: false },
    virtualMedia: { image: null, inserted: false },
    services: [],
    hostDevices: [],
    servicePairs: [],
    pairMemberships: [],
    acceleratorShares: [],
    nextId: { task: 1, session: 1, service: 1, device: 1, pair: 1, share: 1, pci: 0 },
  };
}
