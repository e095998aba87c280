import * as fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "@pulumi/pulumi/automation";
import type { DpuState } from "../../emulator/model";
import {
  admin,
  clearFaults,
  countFleet,
  endpointsFileOf,
  fleetState,
  LAB_COUNTS,
  labStack,
  makeLabProject,
  setFaults,
  spawnEmulator,
  type EmulatorProcess,
  type FleetCounts,
  type LabProject,
} from "./lab";

/** Every DPU the lab stack manages (esx-04/nic2 stays unmanaged). */
const MANAGED = ["esx-01/nic1", "esx-01/nic2", "esx-02/nic1", "esx-03/nic1", "esx-04/nic1"];

/**
 * Faults under the real CLI, with the emulated fleet in a child process: an unreachable
 * port fails only its own DPU's resources, a port answering 503 for a while is waited
 * out, and an emulator killed (SIGKILL) in the middle of `up` and restarted on the same
 * state leaves nothing duplicated or leaked once the next `up` has converged.
 */
describe("faults of the management ports during pulumi up", () => {
  let project: LabProject;
  let emulator: EmulatorProcess | undefined;
  let stack: Stack;
  const serial = (ref: string): string => project.serials[ref];
  const running = (): EmulatorProcess => {
    if (!emulator) throw new Error("the emulator is not running");
    return emulator;
  };
  const hardware = async (): Promise<{ all: Record<string, DpuState>; of(ref: string): DpuState }> => {
    const all = await fleetState(running());
    return { all, of: (ref) => all[serial(ref)] };
  };

  beforeAll(async () => {
    project = await makeLabProject("127.204.0");
    emulator = await spawnEmulator(project, 0);
    // Short budgets: a dead port is given up on in seconds, not the default half hour.
    stack = await labStack(project, "faults", endpointsFileOf(project), { callTimeoutSeconds: 5, operationTimeoutSeconds: 120 });
  });

  afterAll(async () => {
    await emulator?.kill("SIGKILL");
    project?.cleanup();
  });

  it("fails if a DPU's port is down: only that DPU's resources, with an error naming it; the rest is created", async () => {
    await setFaults(running(), serial("esx-04/nic1"), { portDown: true });
    // --continue-on-error: Pulumi goes on with everything that does not depend on the dead port.
    const error = await stack.up({ parallel: 32, continueOnError: true }).then(
      () => "",
      (e: Error) => e.message,
    );
    expect(error).toContain("SmartNic esx-04/nic1 (PEN-DSC2-0004): create failed: management port dropped the connection: https://127.204.0.5:8443");
    const failed = [...error.matchAll(/smartfleet:\w+ (\S+) \*\*creating failed\*\*/g)].map((m) => m[1]);
    expect([...new Set(failed)]).toEqual(["esx-04-nic1"]);

    const hw = await hardware();
    for (const ref of MANAGED.filter((r) => r !== "esx-04/nic1")) {
      expect(hw.of(ref).bios, ref).toMatchObject({ mode: "dpu", hostPrivilege: "restricted" });
      expect(hw.of(ref).dpuOs.state, ref).toBe("Enabled");
    }
    expect(countFleet(hw.all)).toEqual({ ...LAB_COUNTS, services: LAB_COUNTS.services - 1 });
    expect(hw.of("esx-04/nic1").accounts.every((a) => a.passwordChangeRequired)).toBe(true);
    expect(hw.of("esx-04/nic1").dpuOs.state).toBe("Absent");
    await clearFaults(running(), serial("esx-04/nic1"));
  });

  it("waits out a port that answers 503 for a few seconds", async () => {
    const nic = serial("esx-04/nic1");
    const unavailableAnswers = async (): Promise<number> => {
      const counters = await admin<Record<string, { byStatus: Record<string, number> }>>(running(), "GET", "/admin/v1/counters");
      return counters["127.204.0.5:8443"]?.byStatus["503"] ?? 0;
    };
    await admin(running(), "DELETE", "/admin/v1/counters");
    await setFaults(running(), nic, { errorRate: 1 });
    // The port stays busy until the stack has met it, then for 2 s more (real time).
    const clearing = (async () => {
      await waitFor(async () => (await unavailableAnswers()) > 0, 60_000);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      await clearFaults(running(), nic);
    })();
    const up = await stack.up({ parallel: 32 });
    await clearing;
    expect(up.summary.result).toBe("succeeded");
    expect(await unavailableAnswers()).toBeGreaterThan(1);
    const hw = await hardware();
    expect(hw.of("esx-04/nic1").services).toMatchObject([{ serviceType: "ids-ips", state: "Enabled" }]);
    expect(countFleet(hw.all)).toEqual(LAB_COUNTS);
  });

  it("converges after the emulator is killed in the middle of up and restarted, with nothing duplicated or leaked", async () => {
    const destroy = await stack.destroy({ parallel: 32 });
    expect(destroy.summary.result).toBe("succeeded");
    // A factory-fresh fleet (destroy releases, it does not uninstall) with hardware-like
    // durations, 100x faster than real (a host OS install takes ~7 s), so the kill lands
    // while installs are in flight.
    await running().kill("SIGTERM");
    fs.rmSync(project.emulatorDir, { recursive: true, force: true });
    emulator = await spawnEmulator(project, 0.01);

    // esx-04/nic1 answers slowly (the fault lives in the emulator process, so the restart
    // clears it): while the other DPUs already run services it is still being claimed or
    // installed, whatever the machine's speed.
    await setFaults(running(), serial("esx-04/nic1"), { latencyMs: 300 });
    const firstUp = stack.up({ parallel: 32 }).then(
      (r) => r.summary.result,
      (e: Error) => `failed: ${e.message}`,
    );
    let atKill: FleetCounts | undefined;
    await waitFor(async () => {
      const hw = await hardware();
      atKill = countFleet(hw.all);
      return atKill.services >= 1 && hw.of("esx-04/nic1").services.length === 0;
    }, 120_000);
    await running().kill("SIGKILL");
    await new Promise((resolve) => setTimeout(resolve, 500));
    emulator = await spawnEmulator(project, 0.01);
    expect(atKill?.services).toBeLessThan(LAB_COUNTS.services);
    // The interrupted up ends either way: an install in flight ends Exception at the restart
    // ("the emulator restarted while the install ran"); a request cut off is retried.
    await firstUp;

    const up = await stack.up({ parallel: 32 });
    expect(up.summary.result).toBe("succeeded");
    const hw = await hardware();
    expect(countFleet(hw.all)).toEqual(LAB_COUNTS);
    for (const ref of MANAGED) {
      const dpu = hw.of(ref);
      expect(dpu.accounts, ref).toHaveLength(1);
      expect(dpu.dpuOs, ref).toMatchObject({ version: "8.0.3", state: "Enabled" });
      expect(dpu.services.map((s) => s.state), ref).toEqual(dpu.services.map(() => "Enabled"));
    }
    expect(hw.of("esx-01/nic1").host.os).toEqual({ image: "esxi-x86", version: "8.0.3" });
    expect(hw.of("esx-02/nic1").host.os).toEqual({ image: "esxi-x86", version: "8.0.3" });
    const preview = await stack.preview({ parallel: 32 });
    expect(Object.keys(preview.changeSummary)).toEqual(["same"]);
  }, 240_000);
});

/** Polls `condition` every 100 ms until it holds; fails after `timeoutMs`. */
async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
