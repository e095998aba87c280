import * as fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "@pulumi/pulumi/automation";
import type { RunningEmulator } from "../../emulator";
import type { DpuState } from "../../emulator/model";
import { readCheckpoint } from "../support/pulumi";
import {
  backendFiles,
  countFleet,
  drift,
  editStackFile,
  findSessionToken,
  endpointsFileOf,
  fleetState,
  LAB_COUNTS,
  labStack,
  makeLabProject,
  pulumiCli,
  redfishGet,
  startLabEmulator,
  watchSessionTokens,
  type LabProject,
} from "./lab";

/** Every DPU the lab stack manages (esx-04/nic2 stays unmanaged). */
const MANAGED = ["esx-01/nic1", "esx-01/nic2", "esx-02/nic1", "esx-03/nic1", "esx-04/nic1"];

/**
 * The lab fleet's life through the real Pulumi CLI: up from nothing, a no-change preview,
 * drift made behind Pulumi's back, in-place updates and replacements, and destroy. Every
 * effect is read from the emulated hardware (admin API state dump, Redfish), never from
 * Pulumi's outputs.
 */
describe("the lab stack through pulumi up, refresh and destroy", () => {
  let project: LabProject;
  let emulator: RunningEmulator;
  let stack: Stack;
  const sessionTokens = new Set<string>();
  const serial = (ref: string): string => {
    const found = project.serials[ref];
    if (!found) throw new Error(`no DPU ${ref} in the lab inventory`);
    return found;
  };
  /** The hardware's state: every DPU by serial, and `of(host/nic)`. */
  const hardware = async (): Promise<{ all: Record<string, DpuState>; of(ref: string): DpuState }> => {
    const all = await fleetState(emulator);
    return { all, of: (ref) => all[serial(ref)] };
  };

  beforeAll(async () => {
    project = await makeLabProject("127.201.0");
    emulator = await startLabEmulator(project);
    stack = await labStack(project, "lifecycle", endpointsFileOf(project));
  });

  afterAll(async () => {
    await emulator?.stop();
    project?.cleanup();
  });

  it("brings the whole lab fleet to the declared state with one up from nothing", async () => {
    const result = await watchSessionTokens(emulator, sessionTokens, () => stack.up({ parallel: 32 }));
    expect(result.summary.result).toBe("succeeded");
    const hw = await hardware();
    expect(countFleet(hw.all)).toEqual(LAB_COUNTS);
    for (const ref of MANAGED) {
      const dpu = hw.of(ref);
      expect(dpu.bios, ref).toMatchObject({ mode: "dpu", hostPrivilege: "restricted" });
      expect(dpu.dpuOs, ref).toMatchObject({ image: "esxi-arm", version: "8.0.3", state: "Enabled", hostname: ref.replace("/", "-") });
      // The emulator keeps only password hashes: the management password must log in.
      expect(dpu.accounts.every((a) => !a.passwordChangeRequired), `${ref} claimed`).toBe(true);
      expect((await redfishGet(emulator, serial(ref), "/redfish/v1/Systems", project.managementPassword)).status, `${ref} claimed with the management password`).toBe(200);
      expect(dpu.services.map((s) => s.state), ref).toEqual(dpu.services.map(() => "Enabled"));
    }
    expect(hw.of("esx-01/nic1").dpuOs).toMatchObject({ ntpServers: ["ntp.lab"], cluster: "east" });
    expect(hw.of("esx-01/nic1").services).toMatchObject([{ serviceType: "nsx-dfw", version: "4.2.1", cores: 4, memoryGiB: 8, config: { defaultAction: "drop" } }]);
    expect(hw.of("esx-01/nic2").services).toMatchObject([{ serviceType: "vsan-storage", version: "8.0.3" }]);
    expect(hw.of("esx-03/nic1").services).toMatchObject([{ serviceType: "firewall", version: "2.1.0" }]);
    expect(hw.of("esx-04/nic1").services).toMatchObject([{ serviceType: "ids-ips", version: "1.4.0" }]);
    expect(hw.of("esx-01/nic1").hostDevices).toMatchObject([{ kind: "vnic", function: "vf", backingService: hw.of("esx-01/nic1").services[0].id }]);
    expect(hw.of("esx-01/nic2").hostDevices).toMatchObject([{ kind: "nvme", function: "pf", backingService: hw.of("esx-01/nic2").services[0].id }]);
    expect(hw.of("esx-02/nic1").hostDevices).toMatchObject([{ kind: "fpga", function: "pf" }]);
    expect(hw.of("esx-01/nic1").servicePairs).toMatchObject([{ serviceType: "vsan-witness", secondarySerial: serial("esx-02/nic1"), activeSide: "primary", state: "Enabled" }]);
    expect(hw.of("esx-02/nic1").pairMemberships).toMatchObject([{ primarySerial: serial("esx-01/nic1") }]);
    expect(hw.of("esx-01/nic1").acceleratorShares).toMatchObject([{ accelerator: "fpga0", consumerSerial: serial("esx-02/nic1") }]);
    // The host OS goes on through each host's installVia DPU; esx-03 and esx-04 declare none.
    expect(hw.of("esx-01/nic1").host.os).toEqual({ image: "esxi-x86", version: "8.0.3" });
    expect(hw.of("esx-02/nic1").host.os).toEqual({ image: "esxi-x86", version: "8.0.3" });
    expect(hw.of("esx-03/nic1").host.os).toBeNull();
    // Left unmanaged: still on its factory account.
    expect(hw.of("esx-04/nic2").accounts.every((a) => a.passwordChangeRequired)).toBe(true);
    expect(hw.of("esx-04/nic2").services).toEqual([]);
  });

  it("leaves no session open on any port once the command is done (the provider logs out when the engine stops it)", async () => {
    const openSessions = async (): Promise<number> =>
      Object.values(await fleetState(emulator)).reduce((n, dpu) => n + dpu.sessions.length, 0);
    await expect.poll(openSessions, { timeout: 5_000 }).toBe(0);
  });

  it("serves the declared services over Redfish with the management password", async () => {
    const services = await redfishGet(emulator, serial("esx-01/nic1"), "/redfish/v1/Oem/SmartFleet/Services?$expand=.($levels=1)", project.managementPassword);
    expect(services.status).toBe(200);
    expect(services.body.Members).toMatchObject([{ ServiceType: "nsx-dfw", Version: "4.2.1", State: "Enabled" }]);
    const factory = await redfishGet(emulator, serial("esx-01/nic1"), "/redfish/v1/Oem/SmartFleet/Services", project.factoryPasswords[serial("esx-01/nic1")]);
    expect(factory.status).toBe(401);
  });

  it("shows no changes in a second preview", async () => {
    const result = await stack.preview({ parallel: 32 });
    expect(Object.keys(result.changeSummary)).toEqual(["same"]);
  });

  it("keeps the management password, factory passwords and session tokens out of the state and stack export", async () => {
    expect(sessionTokens.size).toBeGreaterThan(0);
    // The checkpoint and every backup and history file the backend keeps.
    const checkpoint = backendFiles(project).map((f) => fs.readFileSync(f, "utf8")).join("\n");
    expect(checkpoint).toContain(JSON.stringify(readCheckpoint(project.sandbox, "smartfleet", "lifecycle").checkpoint.latest?.resources?.[0]?.urn));
    // The CLI as a user runs it (the Automation API's exportStack adds --show-secrets).
    const exported = await pulumiCli(project, ["stack", "export", "--stack", "lifecycle"]);
    const forbidden = [project.managementPassword, ...new Set(Object.values(project.factoryPasswords)), ...sessionTokens];
    for (const text of [checkpoint, exported]) {
      expect(text).toContain("pulumi-nodejs:dynamic/smartfleet:SmartNic"); // the resources are there to search
      for (const secret of forbidden) {
        const at = text.indexOf(secret);
        expect(at, `state holds a secret: ${text.slice(Math.max(0, at - 300), at + 40)}`).toBe(-1);
      }
      // No token of a session seen during up (the emulator shows their SHA-256 fingerprints).
      expect(findSessionToken(text, sessionTokens)).toBeUndefined();
      // Session tokens are 48 hex digits; none may appear, whichever session made them.
      expect(text).not.toMatch(/(?<![0-9a-f])[0-9a-f]{48}(?![0-9a-f])/);
    }
  });

  it("shows out-of-band drift in refresh and repairs it with the next up", async () => {
    const before = await hardware();
    const firewall = before.of("esx-03/nic1").services[0];
    await drift(emulator, serial("esx-01/nic1"), { kind: "hostname", value: "someone-was-here" });
    await drift(emulator, serial("esx-03/nic1"), { kind: "deleteService", id: firewall.id });
    await drift(emulator, serial("esx-04/nic1"), { kind: "hostPrivilege", value: "privileged" });
    await drift(emulator, serial("esx-02/nic1"), { kind: "mode", value: "nic" });

    const refresh = await stack.refresh({ parallel: 32 });
    // DpuOs (hostname), two SmartNics (privilege, mode) differ; the deleted service is gone.
    expect(refresh.summary.resourceChanges).toMatchObject({ update: 3, delete: 1 });

    const up = await stack.up({ parallel: 32 });
    expect(up.summary.resourceChanges).toMatchObject({ update: 3, create: 1 });
    const hw = await hardware();
    expect(hw.of("esx-01/nic1").dpuOs.hostname).toBe("esx-01-nic1");
    expect(hw.of("esx-03/nic1").services).toMatchObject([{ serviceType: "firewall", version: "2.1.0", state: "Enabled" }]);
    expect(hw.of("esx-04/nic1").bios.hostPrivilege).toBe("restricted");
    expect(hw.of("esx-02/nic1").bios.mode).toBe("dpu");
    expect(hw.of("esx-02/nic1").services.map((s) => s.state)).toEqual(["Enabled"]);
    expect(countFleet(hw.all)).toEqual(LAB_COUNTS);

    const preview = await stack.preview({ parallel: 32 });
    expect(Object.keys(preview.changeSummary)).toEqual(["same"]);
  });

  it("applies a service version bump in place: same service on the DPU, new version", async () => {
    const before = (await hardware()).of("esx-01/nic1").services[0];
    editStackFile(project, (doc) => doc.setIn(["hosts", "esx-01", "smartnics", "nic1", "services", "dfw", "version"], "4.2.2"));
    const up = await stack.up({ parallel: 32 });
    expect(up.summary.resourceChanges).toMatchObject({ update: 1 });
    expect(up.summary.resourceChanges?.replace ?? 0).toBe(0);
    expect(up.summary.resourceChanges?.create ?? 0).toBe(0);
    const after = (await hardware()).of("esx-01/nic1").services;
    expect(after).toMatchObject([{ id: before.id, serviceType: "nsx-dfw", version: "4.2.2", state: "Enabled" }]);
  });

  it("replaces a service whose type changes, taking the device it backs down first and presenting it again", async () => {
    editStackFile(project, (doc) => doc.setIn(["hosts", "esx-01", "smartnics", "nic1", "services", "dfw", "type"], "firewall"));
    const up = await stack.up({ parallel: 32 });
    // The port refuses to delete a service that backs a device: the vNIC is replaced with it.
    expect(up.summary.resourceChanges).toMatchObject({ replace: 2 });
    const dpu = (await hardware()).of("esx-01/nic1");
    expect(dpu.services).toMatchObject([{ id: "dfw", serviceType: "firewall", version: "4.2.2", state: "Enabled" }]);
    expect(dpu.hostDevices).toMatchObject([{ name: "vnic0", kind: "vnic", backingService: "dfw" }]);
    const preview = await stack.preview({ parallel: 32 });
    expect(Object.keys(preview.changeSummary)).toEqual(["same"]);
  });

  it("replaces a service pair whose secondary moves to another DPU", async () => {
    editStackFile(project, (doc) => doc.setIn(["servicePairs", "witness", "secondary"], "esx-01/nic2"));
    const up = await stack.up({ parallel: 32 });
    expect(up.summary.resourceChanges).toMatchObject({ replace: 1 });
    const hw = await hardware();
    expect(hw.of("esx-02/nic1").pairMemberships).toEqual([]);
    expect(hw.of("esx-01/nic2").pairMemberships).toMatchObject([{ primarySerial: serial("esx-01/nic1") }]);
    expect(hw.of("esx-01/nic1").servicePairs).toMatchObject([{ secondarySerial: serial("esx-01/nic2"), activeSide: "primary" }]);
    expect(countFleet(hw.all)).toEqual(LAB_COUNTS);
  });

  it("moves a service to another DPU: gone from the old one, running on the new one", async () => {
    editStackFile(project, (doc) => {
      const ids = doc.getIn(["hosts", "esx-04", "smartnics", "nic1", "services", "ids"]);
      doc.deleteIn(["hosts", "esx-04", "smartnics", "nic1", "services", "ids"]);
      doc.setIn(["hosts", "esx-03", "smartnics", "nic1", "services", "ids"], ids);
    });
    // The service's name carries its DPU, so Pulumi creates the new one and deletes the old one.
    const up = await stack.up({ parallel: 32 });
    expect(up.summary.resourceChanges).toMatchObject({ create: 1, delete: 1 });
    const hw = await hardware();
    expect(hw.of("esx-04/nic1").services).toEqual([]);
    expect(hw.of("esx-03/nic1").services.map((s) => s.serviceType).sort()).toEqual(["firewall", "ids-ips"]);
    expect(countFleet(hw.all)).toEqual(LAB_COUNTS);
  });

  it("fails if a DPU OS image does not match its checksum: the error names both digests and the DPU keeps its OS", async () => {
    // The lab catalog lists esxi-arm 8.0.4-rc1 with a wrong sha256 on purpose.
    editStackFile(project, (doc) => doc.setIn(["hosts", "esx-04", "smartnics", "nic1", "os", "version"], "8.0.4-rc1"));
    const error = await stack.up({ parallel: 32 }).then(
      () => "",
      (e: Error) => e.message,
    );
    expect(error).toMatch(/DpuOs esx-04\/nic1 \(PEN-DSC2-0004\) OS: update failed: .*task ended Exception: .*checksum mismatch .*expected sha256 a82f5204\w+, pulled bytes have \w{64}/);
    const dpu = (await hardware()).of("esx-04/nic1");
    expect(dpu.dpuOs).toMatchObject({ image: "esxi-arm", version: "8.0.3", state: "Enabled" });
    expect(dpu.services.map((s) => s.state)).toEqual(dpu.services.map(() => "Enabled"));

    editStackFile(project, (doc) => doc.setIn(["hosts", "esx-04", "smartnics", "nic1", "os", "version"], "8.0.3"));
    const preview = await stack.preview({ parallel: 32 });
    expect(Object.keys(preview.changeSummary)).toEqual(["same"]);
  });

  it("releases everything with destroy and leaves a clean fleet", async () => {
    const result = await stack.destroy({ parallel: 32 });
    expect(result.summary.result).toBe("succeeded");
    const hw = await hardware();
    expect(countFleet(hw.all)).toEqual({ services: 0, hostDevices: 0, servicePairs: 0, pairMemberships: 0, acceleratorShares: 0, insertedMedia: 0, bootOverrides: 0 });
    for (const ref of MANAGED) expect(hw.of(ref).virtualMedia.inserted, ref).toBe(false);
  });

  it("takes the released fleet back under management with the next up, adopting what is there", async () => {
    const up = await stack.up({ parallel: 32 });
    expect(up.summary.resourceChanges).toMatchObject({ create: 31 });
    const hw = await hardware();
    expect(countFleet(hw.all)).toEqual(LAB_COUNTS);
    // Adopted, not reinstalled: the OS and the claimed account were left in place by destroy.
    expect(hw.of("esx-01/nic1").dpuOs).toMatchObject({ version: "8.0.3", state: "Enabled" });
    expect(hw.of("esx-01/nic1").accounts).toHaveLength(1);
    const preview = await stack.preview({ parallel: 32 });
    expect(Object.keys(preview.changeSummary)).toEqual(["same"]);
  });
});
