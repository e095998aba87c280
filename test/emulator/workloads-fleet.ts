/** A test fleet whose hosts carry workloads, with a DPU OS, a service and a service pair: what rollouts disrupt. */
import { expect } from "vitest";
import { DURATIONS_MS } from "../../emulator/simulation";
import type { FleetInventory } from "../../model/inventory";
import { admin, monitorOf, testImages, testInventory, type TestFleet } from "./helpers";

const OEM = "/redfish/v1/Oem/SmartFleet";
const osUri = (testImages() ?? []).find((i) => i.name === "esxi-arm" && i.version === "8.0.3")!.uri;
const osItem: Record<string, string> = { NV1: "DPU_OS", AMD1: "DPU_Image" };
const dpuSystem: Record<string, string> = { NV1: "Bluefield", AMD1: "Card1-SoC" };

/** The test inventory with workloads on h1 (5, 30 s to evacuate) and h2 (3, 60 s). */
export function inventoryWithWorkloads(): FleetInventory {
  const inv = testInventory();
  inv.hosts[0].workloads = { count: 5, evacuationSeconds: 30 };
  inv.hosts[1].workloads = { count: 3, evacuationSeconds: 60 };
  return inv;
}

/** NV1 and AMD1 with a DPU OS, a service `dfw` on NV1 and a pair `witness` NV1 → AMD1; the log cleared. */
export async function prepareFleet(f: TestFleet): Promise<void> {
  for (const s of ["NV1", "AMD1", "NV2", "IPU1"]) await f.claim(s);
  for (const s of ["NV1", "AMD1"]) {
    monitorOf(await f.call(s, "POST", "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate", { ImageURI: osUri, Targets: [`/redfish/v1/UpdateService/FirmwareInventory/${osItem[s]}`] }));
  }
  await f.advance(DURATIONS_MS.dpuOsInstall);
  monitorOf(await f.call("NV1", "POST", `${OEM}/Services`, { Id: "dfw", ServiceType: "nsx-dfw", Version: "4.2.1", Cores: 2, MemoryGiB: 4 }));
  const consent = await f.call("AMD1", "POST", `${OEM}/Consents`, { Purpose: "ServicePairSecondary", Requester: { Serial: "NV1" }, ResourceId: "witness", ServiceType: "vsan-witness", Cores: 2, MemoryGiB: 4 });
  monitorOf(await f.call("NV1", "POST", `${OEM}/ServicePairs`, { Id: "witness", ServiceType: "vsan-witness", Version: "8.0.3", Cores: 2, MemoryGiB: 4, Secondary: { Serial: "AMD1" }, ConsentToken: consent.body.Token }));
  await f.advance(DURATIONS_MS.pairDeploy);
  expect((await admin(f.emu, "DELETE", "/admin/disruptions")).status).toBe(204);
}

/** Restarts a DPU (its pending Bios settings apply), as the provider does for a privilege change. */
export async function restartDpu(f: TestFleet, serial: string): Promise<string> {
  return monitorOf(await f.call(serial, "POST", `/redfish/v1/Systems/${dpuSystem[serial]}/Actions/ComputerSystem.Reset`, { ResetType: "GracefulRestart" }));
}

