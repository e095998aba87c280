import { childPointer } from "../../schemas/source-index";
import type { PolicyRule, Violation } from "../rule";

/** The service types that offer storage to block devices (`storageGiB`). */
const STORAGE_SERVICES = new Set(["vsan-storage"]);

/**
 * SF012: the block devices a service backs fit in the storage it offers. Our model's
 * storage capacity is the backing service's `storageGiB` (only storage services offer
 * it): the sum of the `sizeGiB` of the nvme and virtio-blk devices naming a service in
 * `backing.service` must not exceed it. A sized device backed by a service that offers
 * no storage cannot be placed, and `storageGiB` on a service that stores nothing (or on
 * a service pair) says something the DPU would refuse.
 */
export const blockStorage: PolicyRule = {
  id: "SF012",
  name: "block-storage",
  severity: "error",
  description: "The nvme and virtio-blk devices a service backs must fit in the storage it offers (its storageGiB); only storage services (vsan-storage) offer storage.",
  remediation: "Give the backing service more storageGiB, make the devices smaller, or back some of them with another storage service.",
  check(model) {
    const violations: Violation[] = [];
    for (const nic of model.smartnics) {
      for (const service of nic.services) {
        if (service.spec.storageGiB !== undefined && !STORAGE_SERVICES.has(service.spec.type)) {
          violations.push({ pointer: childPointer(service.pointer, "storageGiB"), message: `${nic.id} service ${service.name} is ${service.spec.type}, which offers no storage; only ${[...STORAGE_SERVICES].join(", ")} does` });
        }
      }
      const asked = new Map<string, { total: number; parts: string[] }>();
      for (const device of nic.devices) {
        const { sizeGiB, backing, kind } = device.spec;
        if (sizeGiB === undefined || (kind !== "nvme" && kind !== "virtio-blk")) continue;
        const service = nic.services.find((s) => s.name === backing?.service);
        if (!service) {
          violations.push({ pointer: childPointer(device.pointer, "sizeGiB"), message: `${nic.id} device ${device.name} asks for ${sizeGiB} GiB but names no storage service in backing.service to hold it` });
          continue;
        }
        if (service.spec.storageGiB === undefined) {
          violations.push({ pointer: childPointer(device.pointer, "backing", "service"), message: `${nic.id} device ${device.name} asks for ${sizeGiB} GiB of ${service.name}, which offers no storage (no storageGiB)` });
          continue;
        }
        const entry = asked.get(service.name) ?? { total: 0, parts: [] };
        entry.total += sizeGiB;
        entry.parts.push(`${device.name} ${sizeGiB} GiB`);
        asked.set(service.name, entry);
      }
      for (const [name, entry] of asked) {
        const service = nic.services.find((s) => s.name === name)!;
        const offered = service.spec.storageGiB ?? 0;
        if (entry.total > offered) {
          violations.push({ pointer: childPointer(service.pointer, "storageGiB"), message: `${nic.id} service ${name} offers ${offered} GiB but its devices need ${entry.total} GiB (${entry.parts.join(", ")})` });
        }
      }
    }
    for (const pair of model.servicePairs) {
      if (pair.spec.service.storageGiB !== undefined) {
        violations.push({ pointer: childPointer(pair.pointer, "service", "storageGiB"), message: `service pair ${pair.name} declares storageGiB, but a pair's service backs no devices` });
      }
    }
    return violations;
  },
};
