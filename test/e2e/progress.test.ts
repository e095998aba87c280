import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DiagnosticEvent, EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { startEmulator, type RunningEmulator } from "../../emulator";
import { editStackFile, endpointsFileOf, labStack, makeLabProject, startLabEmulator, type LabProject } from "./lab";

/**
 * Provider messages during a real `pulumi up` arrive on the resource they concern, not on
 * the stack: two DPU OS installs in one cluster (rollout budget 1) at a time scale where an
 * install takes about 5 s. The Automation API's diagnostic events carry the DpuOs
 * resource's URN for the install's percent lines, its start, and the second host's wait
 * for its group's slot.
 */
describe("progress on the resource during pulumi up", () => {
  let project: LabProject;
  let emulator: RunningEmulator;
  let stack: Stack;
  const HOSTS = ["esx-03", "esx-04"];

  beforeAll(async () => {
    project = await makeLabProject("127.215.0");
    emulator = await startLabEmulator(project);
    stack = await labStack(project, "progress", endpointsFileOf(project), { callTimeoutSeconds: 5 });
    expect((await stack.up({ parallel: 32 })).summary.result).toBe("succeeded");
    // The same fleet on the same state, now with installs that take a while (480 s × 0.01).
    await emulator.stop();
    emulator = await startEmulator({ inventory: project.inventoryFile, stateDir: project.emulatorDir, timeScale: 0.01 });
  }, 240_000);

  afterAll(async () => {
    await emulator?.stop();
    project?.cleanup();
  });

  it("reports install percent, install start and a rollout wait on each DpuOs resource, nothing of it on the stack", async () => {
    // esx-03 and esx-04 (no host OS to keep in lockstep) join one cluster, budget 1: the second waits for the first's slot.
    editStackFile(project, (doc) => {
      for (const host of HOSTS) {
        doc.setIn(["hosts", host, "smartnics", "nic1", "os", "version"], "8.0.2");
        doc.setIn(["hosts", host, "smartnics", "nic1", "os", "cluster"], "west");
      }
    });
    const diagnostics: DiagnosticEvent[] = [];
    const started = Date.now();
    const up = await stack.up({ parallel: 32, onEvent: (event: EngineEvent) => void (event.diagnosticEvent && diagnostics.push(event.diagnosticEvent)) });
    const seconds = (Date.now() - started) / 1000;
    expect(up.summary.result).toBe("succeeded");
    expect(up.summary.resourceChanges?.update).toBe(2);

    const { deployment } = await stack.exportStack();
    const resources = deployment.resources as Array<{ type: string; urn: string }>;
    const stackUrn = resources.find((r) => r.type === "pulumi:pulumi:Stack")!.urn;
    const dpuOsUrn = (host: string): string => {
      const found = resources.filter((r) => r.type.endsWith(":DpuOs") && r.urn.includes(host));
      expect(found, `one DpuOs resource of ${host}`).toHaveLength(1);
      return found[0].urn;
    };
    // The SDK's per-resource debug lines stay in the program (sdkDebugLogOff), but for the
    // stack's own registration, made before the program runs; each is a gRPC call and an event.
    const sdkDebug = diagnostics.filter((d) => /^(Registering resource|RegisterResource RPC)/.test(d.message)).map((d) => d.message);
    expect(sdkDebug.filter((m) => !m.includes("pulumi:pulumi:Stack")), "SDK debug lines").toEqual([]);
    const kept = diagnostics.filter((d) => !d.ephemeral);
    const on = (urn: string): string[] => kept.filter((d) => d.urn === urn).map((d) => d.message.trim());

    for (const host of HOSTS) {
      const messages = on(dpuOsUrn(host));
      expect(messages, host).toContainEqual(expect.stringMatching(new RegExp(`^${host}/nic1 \\(.+\\): installing esxi-arm 8\\.0\\.2 from http://images\\.lab/`)));
      const percents = messages.filter((m) => new RegExp(`^installing esxi-arm 8\\.0\\.2 on ${host}/nic1 \\(.+\\): \\d+ %$`).test(m)).map((m) => Number(/(\d+) %$/.exec(m)![1]));
      // Throttled (≥ 10 points or ≥ 5 s apart over a 4.8 s install: ≥ 10 apart), rising.
      expect(percents.length, `${host}: ${messages.join(" | ")}`).toBeGreaterThanOrEqual(2);
      percents.slice(1).forEach((p, i) => expect(p - percents[i], percents.join(" ")).toBeGreaterThanOrEqual(10));
      expect(messages).toContainEqual(expect.stringMatching(new RegExp(`^installing esxi-arm 8\\.0\\.2 on ${host}/nic1 \\(.+\\): done$`)));
    }
    // One of the two waited for cluster west's slot, and was told on its own resource.
    const waits = kept.filter((d) => /^esx-0[34]: waiting for /.test(d.message.trim()));
    expect(waits.length, kept.map((d) => `${d.urn}: ${d.message}`).join("\n")).toBeGreaterThan(0);
    for (const wait of waits) {
      const host = /^(esx-0[34]):/.exec(wait.message.trim())?.[1];
      expect(wait.urn).toBe(dpuOsUrn(host!));
      expect(on(wait.urn!)).toContainEqual(expect.stringMatching(new RegExp(`^${host}: slot free after \\d+ s`)));
    }
    // None of it on the stack (where console.error lines of the provider process land).
    const ours = /installing esxi-arm|waiting for|slot free| %$/;
    expect(diagnostics.filter((d) => ours.test(d.message.trim()) && !d.urn?.includes("DpuOs")).map((d) => `${d.urn}: ${d.message}`)).toEqual([]);
    expect(on(stackUrn).filter((m) => ours.test(m))).toEqual([]);
    const statuses = diagnostics.filter((d) => d.ephemeral && d.urn?.includes("DpuOs"));
    console.log(`up in ${seconds.toFixed(1)} s: ${kept.filter((d) => d.urn?.includes("DpuOs")).length} kept messages and ${statuses.length} ephemeral statuses on the DpuOs resources\n${HOSTS.map((h) => `${h}: ${on(dpuOsUrn(h)).join(" | ")}`).join("\n")}`);
  }, 240_000);
});
