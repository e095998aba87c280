import { describe, expect, it } from "vitest";
import { HOST_UNAVAILABLE_KINDS, maxDisruptedHostsPerGroup, peakDisruptedHosts, type LoggedDisruption } from "./disruptions";

const group = (host: string): string => (host.startsWith("a") ? "A" : "B");
const at = (kind: string, host: string, start: number, end: number | null): LoggedDisruption => ({ kind, host, start, end });

describe("peak disrupted hosts per group, from the disruption log", () => {
  it("counts hosts whose intervals overlap, per group", () => {
    const log = [at("dpu-reboot", "a1", 0, 100), at("dpu-reboot", "a2", 50, 150), at("host-power-cycle", "a3", 120, 200), at("dpu-reboot", "b1", 0, 10)];
    expect(maxDisruptedHostsPerGroup(log, group)).toEqual({ A: 2, B: 1 });
    expect(peakDisruptedHosts(log, group).get("A")).toEqual({ max: 2, at: 50, hosts: ["a1", "a2"] });
  });

  it("counts a host once however many of its intervals overlap (reboot inside maintenance)", () => {
    const log = [at("maintenance", "a1", 0, 300), at("dpu-reboot", "a1", 100, 190), at("workload-outage", "a2", 100, 190)];
    expect(maxDisruptedHostsPerGroup(log, group)).toEqual({ A: 1 });
  });

  it("does not count an interval that ends when another starts, nor kinds that leave the host up", () => {
    const log = [at("dpu-reboot", "a1", 0, 100), at("dpu-reboot", "a2", 100, 200), at("pair-unprotected", "a3", 0, 200), at("service-restart", "a4", 0, 200)];
    expect(maxDisruptedHostsPerGroup(log, group)).toEqual({ A: 1 });
    expect(HOST_UNAVAILABLE_KINDS).toEqual(["dpu-reboot", "host-power-cycle", "host-os-install", "maintenance"]);
  });

  it("treats an ongoing interval as lasting and a zero-length one (time scale 0) as its instant", () => {
    const log = [at("dpu-reboot", "a1", 0, null), at("dpu-reboot", "a2", 500, 500), at("dpu-reboot", "a3", 500, 500), at("dpu-reboot", "a4", 600, 600)];
    expect(peakDisruptedHosts(log, group).get("A")).toEqual({ max: 3, at: 500, hosts: ["a1", "a2", "a3"] });
  });

  it("takes the kinds to count", () => {
    const log = [at("pair-unprotected", "a1", 0, 100), at("pair-unprotected", "a2", 50, 150)];
    expect(maxDisruptedHostsPerGroup(log, group, ["pair-unprotected"])).toEqual({ A: 2 });
    expect(maxDisruptedHostsPerGroup(log, group)).toEqual({});
  });
});
