import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { implementation as smartNic, type SmartNicOutputs } from "../../providers/smart-nic";
import { request } from "../emulator/helpers";
import { admin, dump, MANAGED_PASSWORD, rolloutOf, smartNicArgs, startFleet, type Fleet } from "../support/provider-harness";

/** The status a Basic-authenticated GET of the service's Systems answers for `user:password` on `serial`. */
async function basicStatus(fleet: Fleet, serial: string, user: string, password: string): Promise<number> {
  const url = fleet.emulator.endpoints.dpus.find((d) => d.serial === serial)?.url;
  return (await request(fleet.emulator.caPem, `${url}/redfish/v1/Systems`, { auth: [user, password] })).status;
}

describe("SmartNic provider against the emulated fleet", () => {
  let fleet: Fleet;
  let claimed: SmartNicOutputs;

  beforeAll(async () => {
    fleet = await startFleet();
  });
  afterAll(() => fleet?.stop());

  it("checks inputs against the kind schema and reports every violation", async () => {
    const bad = { ...smartNicArgs(fleet.inventory, "h1"), mode: "turbo", armCores: 0, password: "" };
    const { failures } = await smartNic.check({}, bad as unknown as Record<string, unknown>);
    expect(failures?.map((f) => f.property).sort()).toEqual(["armCores", "mode", "password"]);
    expect(failures?.find((f) => f.property === "mode")?.reason).toMatch(/dpu.*nic/);
  });

  it("claims the factory account with the managed password and converges mode and host privilege", async () => {
    const result = await smartNic.create(smartNicArgs(fleet.inventory, "h1"));
    claimed = result.outs as SmartNicOutputs;
    expect(result.id).toBe("NV1");
    expect(claimed.claim).toBe("rotated");
    const state = await dump(fleet, "NV1");
    const root = state.accounts.find((a) => a.userName === "root");
    expect(await basicStatus(fleet, "NV1", "root", MANAGED_PASSWORD)).toBe(200);
    expect(root?.passwordChangeRequired).toBe(false);
    expect(state.bios).toMatchObject({ mode: "dpu", hostPrivilege: "restricted" });
  });

  it("adopts a DPU that is already claimed and configured without changing it", async () => {
    const again = await smartNic.create(smartNicArgs(fleet.inventory, "h1"));
    expect((again.outs as SmartNicOutputs).claim).toBe("already-claimed");
    expect((await dump(fleet, "NV1")).bios).toMatchObject({ mode: "dpu", hostPrivilege: "restricted" });
  });

  it("reads out-of-band drift, diffs it as an in-place update, and repairs it", async () => {
    await admin(fleet, "POST", "/admin/v1/dpus/NV1/drift", { kind: "hostPrivilege", value: "privileged" });
    const read = await smartNic.read("NV1", claimed);
    const live = read.props as SmartNicOutputs;
    expect(live.hostPrivilege).toBe("privileged");
    const wanted = smartNicArgs(fleet.inventory, "h1");
    const diff = await smartNic.diff("NV1", live, wanted);
    expect(diff).toMatchObject({ changes: true, replaces: [] });
    const updated = await smartNic.update("NV1", live, wanted);
    expect((updated.outs as SmartNicOutputs).hostPrivilege).toBe("restricted");
    expect((await dump(fleet, "NV1")).bios.hostPrivilege).toBe("restricted");
  });

  it("replaces the resource only when the target is another DPU", async () => {
    const wanted = smartNicArgs(fleet.inventory, "h1");
    const moved = { ...wanted, target: { ...wanted.target, address: "127.0.0.9" } };
    expect(await smartNic.diff("NV1", claimed, moved)).toMatchObject({ changes: true, replaces: [] });
    const other = { ...wanted, target: { ...wanted.target, serial: "NV9" } };
    expect((await smartNic.diff("NV1", claimed, other)).replaces).toEqual(["target"]);
  });

  it("fails if a mode change is needed and the stack does not allow a host power cycle", async () => {
    await expect(smartNic.create(smartNicArgs(fleet.inventory, "h3"))).rejects.toThrow(
      /h3\/nic1.*nic mode.*asks for dpu.*allowHostPowerCycle: true/,
    );
    expect((await dump(fleet, "NV2")).bios.mode).toBe("nic");
  });

  it("fails the diff (so pulumi preview fails before anything is touched) if the live mode differs and the stack does not allow a host power cycle", async () => {
    const live = { ...(smartNicArgs(fleet.inventory, "h3") as SmartNicOutputs), mode: "nic" as const };
    await expect(smartNic.diff("NV2", live, smartNicArgs(fleet.inventory, "h3"))).rejects.toThrow(/diff failed: the DPU is in nic mode .* asks for dpu mode.*allowHostPowerCycle: true/);
    const allowed = smartNicArgs(fleet.inventory, "h3", "nic1", { rollout: rolloutOf("h3", { allowHostPowerCycle: true }) });
    expect(await smartNic.diff("NV2", live, allowed)).toMatchObject({ changes: true, replaces: [] });
  });

  it("changes the mode with a DPU reboot and a host power cycle when the stack allows it", async () => {
    const result = await smartNic.create(smartNicArgs(fleet.inventory, "h3", "nic1", { rollout: rolloutOf("h3", { allowHostPowerCycle: true }) }));
    expect((result.outs as SmartNicOutputs).mode).toBe("dpu");
    const state = await dump(fleet, "NV2");
    expect(state.bios.mode).toBe("dpu");
    expect(state.host.powerState).toBe("On");
  });

  it("fails if neither the managed nor the factory password is accepted, naming the DPU", async () => {
    const wrong = smartNicArgs(fleet.inventory, "h2", "nic1", { factoryPassword: "wrong-factory", password: "wrong-managed" });
    await expect(smartNic.create(wrong)).rejects.toThrow(/SmartNic h2\/nic1 \(AMD1\).*neither the configured nor the factory password/);
  });

  it("fails if the management port is unreachable, naming the DPU and its endpoint", async () => {
    const args = smartNicArgs(fleet.inventory, "h2");
    const unreachable = { ...args, target: { ...args.target, port: 1 } };
    await expect(smartNic.create(unreachable)).rejects.toThrow(/SmartNic h2\/nic1 \(AMD1\): create failed: .*:1/);
  });

  it("releases the DPU on delete and leaves its configuration in place", async () => {
    await smartNic.delete("NV1", claimed);
    const state = await dump(fleet, "NV1");
    expect(state.bios.mode).toBe("dpu");
    expect(state.accounts.find((a) => a.userName === "root")?.passwordChangeRequired).toBe(false);
    expect(await basicStatus(fleet, "NV1", "root", MANAGED_PASSWORD)).toBe(200);
  });

  it("claims a DPU whose session slots someone filled with the factory password, and the DPU then works", async () => {
    const url = fleet.emulator.endpoints.dpus.find((d) => d.serial === "IPU1")?.url;
    let filled = 0;
    for (let i = 0; i < 70; i++) {
      const r = await request(fleet.emulator.caPem, `${url}/redfish/v1/SessionService/Sessions`, { method: "POST", body: { UserName: "admin", Password: "1ntelIpu" } });
      if (r.status !== 201) {
        expect(r.status).toBe(503);
        expect(r.body.error["@Message.ExtendedInfo"][0].MessageId).toMatch(/SessionLimitExceeded$/);
        break;
      }
      filled++;
    }
    const result = await smartNic.create(smartNicArgs(fleet.inventory, "h4"));
    expect((result.outs as SmartNicOutputs).claim).toBe("rotated");
    console.log(`session table: ${filled} sessions opened with the factory password before SessionLimitExceeded; claim: ${(result.outs as SmartNicOutputs).claim}`);
    // up works afterwards: the DPU reads and converges with the managed password, and a re-run adopts it.
    const read = await smartNic.read("IPU1", result.outs as SmartNicOutputs);
    expect((read.props as SmartNicOutputs).mode).toBe("dpu");
    expect(((await smartNic.create(smartNicArgs(fleet.inventory, "h4"))).outs as SmartNicOutputs).claim).toBe("already-claimed");
    expect(await basicStatus(fleet, "IPU1", "admin", MANAGED_PASSWORD)).toBe(200);
    // The password change ended the sessions opened with the factory password.
    expect((await dump(fleet, "IPU1") as unknown as { sessions: Array<{ accountId: string }> }).sessions.length).toBeLessThanOrEqual(1);
  });
});
