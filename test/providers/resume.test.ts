import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../emulator";
import { UnfinishedOperationError } from "../../providers/common/errors";
import { implementation as dpuOs, type DpuOsArgs, type DpuOsOutputs } from "../../providers/dpu-os";
import { implementation as smartNic } from "../../providers/smart-nic";
import { admin, credentials, dump, image, smartNicArgs, startFleet, target, type Fleet } from "../support/provider-harness";

/**
 * An install that outlasts the provider's time budget: the task URI is kept in the
 * outputs recorded in state, and the next run waits for that same task instead of
 * starting another install. Hardware time is a manual clock, so nothing sleeps for it.
 */
describe("an unfinished DPU OS install", () => {
  let fleet: Fleet;
  const clock = new ManualClock();
  let args: DpuOsArgs;
  let unfinished: UnfinishedOperationError;

  beforeAll(async () => {
    fleet = await startFleet(undefined, { clock, timeScale: 1, operationTimeoutMs: 300 });
    // Factory mode and privilege: claiming needs no reboot, which would wait on the manual clock.
    await smartNic.create(smartNicArgs(fleet.inventory, "h2", "nic1", { hostPrivilege: "privileged" }));
    args = { target: target(fleet.inventory, "h2"), image: "esxi-arm", version: "8.0.3", ...image(fleet.inventory, "esxi-arm", "8.0.3"), ntp: [], ...credentials(fleet.inventory, "h2") };
  });
  afterAll(() => fleet?.stop());

  it("fails with the task kept in the recorded outputs when the wait runs out", async () => {
    const error = await dpuOs.create(args).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnfinishedOperationError);
    unfinished = error as UnfinishedOperationError;
    expect(unfinished.id).toBe("AMD1/os");
    expect(unfinished.properties.pendingTask).toMatch(/\/redfish\/v1\/TaskService\//);
    expect(unfinished.message).toMatch(/next run resumes it/);
    expect((await dump(fleet, "AMD1")).dpuOs.state).toBe("Installing");
  });

  it("resumes the same task on the next run and converges without a second install", async () => {
    // Without the recorded task a new create waits for the running install (here until its
    // short operation timeout) instead of starting a second one.
    await expect(dpuOs.create(args)).rejects.toThrow(/holds no task for is still running after the operation timeout/);
    clock.advance(3_600_000);
    const recorded = unfinished.properties as unknown as DpuOsOutputs;
    const outs = (await dpuOs.update(unfinished.id, recorded, args)).outs as DpuOsOutputs;
    expect(outs).toMatchObject({ version: "8.0.3", state: "Enabled", pendingTask: null });
    expect((await dump(fleet, "AMD1")).dpuOs).toMatchObject({ version: "8.0.3", state: "Enabled" });
    const { tasks } = await admin<{ tasks: Array<{ name: string }> }>(fleet, "GET", "/admin/v1/dpus/AMD1/state");
    expect(tasks.filter((t) => /^Update os/.test(t.name))).toHaveLength(1);
  });
});
