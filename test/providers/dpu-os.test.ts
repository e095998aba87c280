import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { implementation as dpuOs, type DpuOsArgs, type DpuOsOutputs } from "../../providers/dpu-os";
import { implementation as smartNic } from "../../providers/smart-nic";
import { admin, credentials, dump, image, smartNicArgs, startFleet, target, type Fleet } from "../support/provider-harness";

describe("DpuOs provider against the emulated fleet", () => {
  let fleet: Fleet;
  let installed: DpuOsOutputs;
  const args = (version: string, extra: Partial<DpuOsArgs> = {}): DpuOsArgs => ({
    target: target(fleet.inventory, "h1"),
    image: "esxi-arm",
    version,
    ...image(fleet.inventory, "esxi-arm", version),
    hostname: "h1-nic1",
    ntp: ["ntp.test"],
    ...credentials(fleet.inventory, "h1"),
    ...extra,
  });

  beforeAll(async () => {
    fleet = await startFleet();
    await smartNic.create(smartNicArgs(fleet.inventory, "h1"));
  });
  afterAll(() => fleet?.stop());

  it("installs the image through SimpleUpdate and sets hostname and NTP", async () => {
    const result = await dpuOs.create(args("8.0.2"));
    installed = result.outs as DpuOsOutputs;
    expect(result.id).toBe("NV1/os");
    const os = (await dump(fleet, "NV1")).dpuOs;
    expect(os).toMatchObject({ image: "esxi-arm", version: "8.0.2", hostname: "h1-nic1", ntpServers: ["ntp.test"], state: "Enabled" });
  });

  it("treats a version bump as an in-place update and upgrades", async () => {
    const diff = await dpuOs.diff("NV1/os", installed, args("8.0.3"));
    expect(diff).toMatchObject({ changes: true, replaces: [] });
    installed = (await dpuOs.update("NV1/os", installed, args("8.0.3"))).outs as DpuOsOutputs;
    expect((await dump(fleet, "NV1")).dpuOs.version).toBe("8.0.3");
  });

  it("shows a hostname changed out of band on read and repairs it", async () => {
    await admin(fleet, "POST", "/admin/v1/dpus/NV1/drift", { kind: "hostname", value: "rogue" });
    const live = (await dpuOs.read("NV1/os", installed)).props as DpuOsOutputs;
    expect(live.hostname).toBe("rogue");
    expect((await dpuOs.diff("NV1/os", live, args("8.0.3"))).changes).toBe(true);
    await dpuOs.update("NV1/os", live, args("8.0.3"));
    expect((await dump(fleet, "NV1")).dpuOs.hostname).toBe("h1-nic1");
  });

  it("adopts an OS that is already installed and configured without starting an install", async () => {
    const before = await admin<{ tasks: unknown[] }>(fleet, "GET", "/admin/v1/dpus/NV1/state");
    const adopted = (await dpuOs.create(args("8.0.3"))).outs as DpuOsOutputs;
    expect(adopted).toMatchObject({ version: "8.0.3", hostname: "h1-nic1", state: "Enabled", pendingTask: null });
    const after = await admin<{ tasks: unknown[] }>(fleet, "GET", "/admin/v1/dpus/NV1/state");
    expect(after.tasks).toHaveLength(before.tasks.length);
  });

  it("fails if the install task ends in Exception (bad image checksum), with the port's message", async () => {
    await expect(dpuOs.update("NV1/os", installed, args("9.9.9"))).rejects.toThrow(/DpuOs h1\/nic1 \(NV1\) OS: update failed: .*checksum/);
    expect((await dump(fleet, "NV1")).dpuOs).toMatchObject({ version: "8.0.3", state: "Enabled" });
  });

  it("releases on delete: NTP and cluster cleared, the OS stays", async () => {
    await dpuOs.delete("NV1/os", installed);
    expect((await dump(fleet, "NV1")).dpuOs).toMatchObject({ version: "8.0.3", ntpServers: [], state: "Enabled" });
  });
});
