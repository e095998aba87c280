import { afterAll, describe, expect, it } from "vitest";
import { loadPolicyData } from "../../policies/data";
import { blockStorage } from "../../policies/rules/block-storage";
import { load, stackText, tempDir } from "../support/stack-fixtures";

const tmp = tempDir("sf-storage-");
afterAll(() => tmp.cleanup());
const data = loadPolicyData();
let counter = 0;

/** SF012 over one DPU with the given services and devices (YAML flow maps, one a line). */
function violations(services: string[], devices: string[]) {
  const body = `hosts:
  esx-01:
    smartnics:
      nic1:
        os: { image: esxi-arm, version: "8.0.3" }
        services:
${services.map((s) => `          ${s}`).join("\n") || "          {}"}
        devices:
${devices.map((d) => `          ${d}`).join("\n") || "          {}"}
`;
  return blockStorage.check(load(tmp.write(`s${counter++}.yaml`, stackText(body))), data);
}

const VSAN = (storageGiB: number) => `vsan: { type: vsan-storage, version: "8.0.3", cores: 2, memoryGiB: 4, storageGiB: ${storageGiB} }`;

describe("SF012 block storage", () => {
  it("passes block devices that fit in the storage their service offers, and devices without a size", () => {
    expect(violations([VSAN(100)], ["disk0: { kind: nvme, sizeGiB: 64, backing: { service: vsan } }", "blk0: { kind: virtio-blk, sizeGiB: 36, backing: { service: vsan } }", "disk1: { kind: nvme, backing: { service: vsan } }"])).toEqual([]);
  });

  it("fails if the devices a service backs need more than it offers, naming each device", () => {
    const found = violations([VSAN(100)], ["disk0: { kind: nvme, sizeGiB: 64, backing: { service: vsan } }", "blk0: { kind: virtio-blk, sizeGiB: 40, backing: { service: vsan } }"]);
    expect(found).toEqual([{ pointer: "/hosts/esx-01/smartnics/nic1/services/vsan/storageGiB", message: "esx-01/nic1 service vsan offers 100 GiB but its devices need 104 GiB (disk0 64 GiB, blk0 40 GiB)" }]);
  });

  it("fails if a sized device is backed by a service that offers no storage, or by none", () => {
    const found = violations([`dfw: { type: nsx-dfw, version: "4.2.1", cores: 2, memoryGiB: 4 }`], ["disk0: { kind: nvme, sizeGiB: 8, backing: { service: dfw } }", "disk1: { kind: nvme, sizeGiB: 8 }"]);
    expect(found.map((v) => v.pointer)).toEqual(["/hosts/esx-01/smartnics/nic1/devices/disk0/backing/service", "/hosts/esx-01/smartnics/nic1/devices/disk1/sizeGiB"]);
    expect(found[0].message).toContain("dfw, which offers no storage");
    expect(found[1].message).toContain("names no storage service");
  });

  it("fails if a service that stores nothing declares storage", () => {
    const found = violations([`fw: { type: firewall, version: "2.1.0", cores: 2, memoryGiB: 4, storageGiB: 10 }`], []);
    expect(found).toEqual([{ pointer: "/hosts/esx-01/smartnics/nic1/services/fw/storageGiB", message: "esx-01/nic1 service fw is firewall, which offers no storage; only vsan-storage does" }]);
  });
});
