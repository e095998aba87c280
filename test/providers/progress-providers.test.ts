import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { EngineLogEntry } from "../../providers/common/engine-log";
import { useEngineLog, useStderr } from "../../providers/common/progress";
import { captureRequestUrns } from "../../providers/common/request-urn";
import { setProviderSettings } from "../../providers/common/settings";
import { implementation as dpuOs, type DpuOsArgs, type DpuOsOutputs } from "../../providers/dpu-os";
import { closeAllClients } from "../../providers/redfish";
import { implementation as smartNic } from "../../providers/smart-nic";
import { admin, credentials, image, smartNicArgs, startFleet, target, type Fleet } from "../support/provider-harness";

// The host's generated modules are CommonJS without types.
const providerPb = require("@pulumi/pulumi/proto/provider_pb") as Record<string, new () => Record<string, (...args: unknown[]) => unknown>>;
const providerGrpc = require("@pulumi/pulumi/proto/provider_grpc_pb") as { ResourceProviderService: Record<string, { requestDeserialize(buffer: Buffer): Record<string, () => { toJavaScript(): unknown }> }> };
const structPb = require("google-protobuf/google/protobuf/struct_pb") as { Struct: { fromJavaScript(value: object): unknown } };

const URN = "urn:pulumi:test::smartfleet::pulumi-nodejs:dynamic/smartfleet:DpuOs::h1-nic1-os";

/** `props` as the dynamic-provider host hands them to the provider: read from a request for `URN`. */
function fromHost<T extends object>(requestClass: "CreateRequest" | "ReadRequest", props: T): T {
  const request = new providerPb[requestClass]();
  request.setUrn(URN);
  request.setProperties(structPb.Struct.fromJavaScript(props));
  const method = requestClass === "CreateRequest" ? "create" : "read";
  const received = providerGrpc.ResourceProviderService[method].requestDeserialize(Buffer.from(request.serializeBinary() as Uint8Array));
  return received.getProperties().toJavaScript() as T;
}

/**
 * The providers' messages reach the engine on the resource of the call that caused them: a
 * DpuOs install's start, percent and end, and the pooled client's retries, with the call's
 * properties coming through the host's real request classes.
 */
describe("provider messages on the resource", () => {
  let fleet: Fleet;
  const sent: EngineLogEntry[] = [];
  const stderr: string[] = [];
  const args = (version: string): DpuOsArgs => ({
    target: target(fleet.inventory, "h1"),
    image: "esxi-arm",
    version,
    ...image(fleet.inventory, "esxi-arm", version),
    ntp: [],
    ...credentials(fleet.inventory, "h1"),
  });

  beforeAll(async () => {
    captureRequestUrns(require("@pulumi/pulumi/proto/provider_pb") as Record<string, unknown>);
    useStderr((line) => stderr.push(line));
    // An install takes 480 s × 0.005 = 2.4 s.
    fleet = await startFleet(undefined, { timeScale: 0.005 });
    // Called directly, not through the host: no URN, so its lines went to stderr, prefixed.
    await smartNic.create(smartNicArgs(fleet.inventory, "h1"));
    expect(stderr).toContain("smartfleet: [SmartNic h1/nic1 (NV1)] the DPU reboot on h1/nic1 (NV1): done");
    stderr.length = 0;
    useEngineLog(async (entry) => void sent.push(entry));
  });
  afterEach(() => {
    sent.length = 0;
    stderr.length = 0;
  });
  afterAll(async () => {
    useEngineLog(undefined);
    await fleet?.stop();
  });

  it("an install: its start, percent lines and end, on the DpuOs resource", async () => {
    await dpuOs.create(fromHost("CreateRequest", args("8.0.2")));
    const lines = sent.filter((e) => !e.ephemeral).map((e) => e.message);
    expect(lines[0]).toMatch(/^h1\/nic1 \(NV1\): installing esxi-arm 8\.0\.2 from /);
    const percents = lines.filter((m) => /^installing esxi-arm 8\.0\.2 on h1\/nic1 \(NV1\): \d+ %$/.test(m));
    expect(percents.length, lines.join(" | ")).toBeGreaterThanOrEqual(2);
    expect(lines.at(-1)).toBe("installing esxi-arm 8.0.2 on h1/nic1 (NV1): done");
    expect(sent.filter((e) => e.ephemeral).length).toBeGreaterThanOrEqual(percents.length);
    expect(sent.every((e) => e.urn === URN)).toBe(true);
    expect(stderr).toEqual([]);
  }, 30_000);

  it("retries of the pooled client, on the resource whose read made them", async () => {
    // A fresh client that may retry: the pooled one was made with the harness's one retry.
    await closeAllClients();
    setProviderSettings({ caPem: fleet.emulator.caPem, callTimeoutMs: 5_000, operationTimeoutMs: 20_000, retries: 8 });
    const outs = { ...args("8.0.2"), state: "Enabled", pendingTask: null } as unknown as DpuOsOutputs;
    // Every request fails (503, Retry-After 1) until the fault is cleared 1.5 s later.
    await admin(fleet, "PATCH", "/admin/v1/dpus/NV1/faults", { errorRate: 1 });
    const clear = new Promise((resolve) => setTimeout(resolve, 1_500)).then(() => admin(fleet, "DELETE", "/admin/v1/dpus/NV1/faults"));
    const live = await dpuOs.read("NV1/os", fromHost("ReadRequest", outs));
    await clear;
    expect(live.props).toMatchObject({ version: "8.0.2" });
    const retries = sent.filter((e) => / failed \(.*\); retry \d+\/8 in \d+ ms$/.test(e.message));
    expect(retries.length, sent.map((e) => e.message).join(" | ")).toBeGreaterThan(0);
    expect(retries.every((e) => e.urn === URN && e.message.startsWith("https://"))).toBe(true);
    expect(stderr).toEqual([]);
  }, 30_000);
});
