import { afterAll, describe, expect, it } from "vitest";
import { loadPolicyData } from "../../policies/data";
import type { PolicyRule } from "../../policies/rule";
import { RULES } from "../../policies/rules";
import { acceleratorSingleConsumer } from "../../policies/rules/accelerator-single-consumer";
import { capacity } from "../../policies/rules/capacity";
import { clusterHomogeneity } from "../../policies/rules/cluster-homogeneity";
import { dpuMode } from "../../policies/rules/dpu-mode";
import { hardwareCompatibility } from "../../policies/rules/hardware-compatibility";
import { modeChangeDisruption } from "../../policies/rules/mode-change-disruption";
import { noSecrets } from "../../policies/rules/no-secrets";
import { securityIsolation } from "../../policies/rules/security-isolation";
import { servicePairAntiAffinity } from "../../policies/rules/service-pair-anti-affinity";
import { versionLockstep } from "../../policies/rules/version-lockstep";
import { load, stackText, tempDir } from "../support/stack-fixtures";

const tmp = tempDir("sf-rules-");
afterAll(() => tmp.cleanup());
const data = loadPolicyData();
let counter = 0;

function violations(rule: PolicyRule, body: string) {
  const file = tmp.write(`s${counter++}.yaml`, stackText(body));
  return rule.check(load(file), data);
}

const restrictedDpu = (services: string) => `hosts:
  esx-01:
    smartnics:
      nic1:
        hostPrivilege: restricted
        os: { image: esxi-arm, version: "8.0.3" }
        services:
${services}
`;

describe("policy rules", () => {
  it("have unique ids, a description and a remediation each", () => {
    expect(new Set(RULES.map((r) => r.id)).size).toBe(RULES.length);
    for (const rule of RULES) {
      expect(rule.id).toMatch(/^SF\d{3}$/);
      expect(rule.description.length).toBeGreaterThan(20);
      expect(rule.remediation.length).toBeGreaterThan(10);
    }
  });

  describe("SF001 hardware compatibility", () => {
    it("passes a BlueField-3 in a Dell host with ESXi on Arm 8.0.3", () => {
      expect(violations(hardwareCompatibility, restrictedDpu("          {}"))).toEqual([]);
    });
    it("fails if the DPU OS version is not supported for the DPU model", () => {
      const found = violations(hardwareCompatibility, `hosts:\n  esx-01:\n    smartnics:\n      nic1:\n        os: { image: esxi-arm, version: "7.0.3" }\n`);
      expect(found).toHaveLength(1);
      expect(found[0]).toMatchObject({ pointer: "/hosts/esx-01/smartnics/nic1/os/version" });
      expect(found[0].message).toContain("esxi-arm 7.0.3 is not supported on bluefield-3 in dell hosts");
    });
    it("fails if the DPU model is not supported in the host's vendor", () => {
      const file = tmp.write(`hw${counter++}.yaml`, stackText(`hosts:\n  esx-01:\n    smartnics:\n      nic1: {}\n`));
      const model = load(file);
      const onlyHpe = { ...data, hardware: { ...data.hardware, combinations: data.hardware.combinations.map((c) => ({ ...c, hostVendors: ["hpe" as const] })) } };
      const found = hardwareCompatibility.check(model, onlyHpe);
      expect(found.map((v) => v.message)).toEqual(["esx-01/nic1: bluefield-3 is not supported in dell hosts"]);
    });
  });

  describe("SF002 capacity", () => {
    it("passes services that fit after the OS reserve (2 + 14 of 16 cores)", () => {
      expect(violations(capacity, restrictedDpu("          a: { type: nsx-dfw, version: '1', cores: 14, memoryGiB: 28 }"))).toEqual([]);
    });
    it("fails if services exceed the DPU's cores after the OS reserve", () => {
      const found = violations(capacity, restrictedDpu("          a: { type: nsx-dfw, version: '1', cores: 10, memoryGiB: 8 }\n          b: { type: firewall, version: '1', cores: 5, memoryGiB: 8 }"));
      expect(found).toHaveLength(1);
      expect(found[0].message).toContain("needs 17 cores of 16");
    });
    it("fails if a service pair side pushes a DPU over its memory", () => {
      const found = violations(
        capacity,
        `${restrictedDpu("          a: { type: nsx-dfw, version: '1', cores: 2, memoryGiB: 26 }")}  esx-02:\n    smartnics:\n      nic1: {}\nservicePairs:\n  w:\n    service: { type: vsan-witness, version: '1', cores: 1, memoryGiB: 4 }\n    primary: esx-01/nic1\n    secondary: esx-02/nic1\n`,
      );
      expect(found.map((v) => v.message)).toEqual([expect.stringContaining("esx-01/nic1 is over capacity: needs 34 GiB of 32 GiB")]);
    });
  });

  describe("SF003 service-pair anti-affinity", () => {
    const pair = (primary: string, secondary: string) =>
      `hosts:\n  esx-01:\n    smartnics: { nic1: {}, nic2: {} }\n  esx-02:\n    smartnics: { nic1: {} }\nservicePairs:\n  w:\n    service: { type: vsan-witness, version: '1', cores: 1, memoryGiB: 1 }\n    primary: ${primary}\n    secondary: ${secondary}\n`;
    it("passes a pair across two hosts", () => {
      expect(violations(servicePairAntiAffinity, pair("esx-01/nic1", "esx-02/nic1"))).toEqual([]);
    });
    it("fails if both sides are on one DPU", () => {
      const found = violations(servicePairAntiAffinity, pair("esx-01/nic1", "esx-01/nic1"));
      expect(found).toEqual([{ pointer: "/servicePairs/w/secondary", message: "service pair w has both sides on esx-01/nic1" }]);
    });
    it("fails if both sides are in one host, as a warning", () => {
      const found = violations(servicePairAntiAffinity, pair("esx-01/nic1", "esx-01/nic2"));
      expect(found).toHaveLength(1);
      expect(found[0].severity).toBe("warning");
    });
  });

  describe("SF004 security isolation", () => {
    it("passes a firewall on a restricted DPU", () => {
      expect(violations(securityIsolation, restrictedDpu("          fw: { type: firewall, version: '1', cores: 1, memoryGiB: 1 }"))).toEqual([]);
    });
    it("fails if IDS/IPS runs on a privileged DPU", () => {
      const found = violations(securityIsolation, `hosts:\n  esx-01:\n    smartnics:\n      nic1:\n        services:\n          ids: { type: ids-ips, version: '1', cores: 1, memoryGiB: 1 }\n`);
      expect(found).toEqual([{ pointer: "/hosts/esx-01/smartnics/nic1/services/ids", message: "ids-ips service ids runs on esx-01/nic1, which is privileged" }]);
    });
    it("fails if a firewall pair has a side on a privileged DPU", () => {
      const found = violations(
        securityIsolation,
        `hosts:\n  esx-01:\n    smartnics: { nic1: { hostPrivilege: restricted } }\n  esx-02:\n    smartnics: { nic1: {} }\nservicePairs:\n  fw:\n    service: { type: firewall, version: '1', cores: 1, memoryGiB: 1 }\n    primary: esx-01/nic1\n    secondary: esx-02/nic1\n`,
      );
      expect(found.map((v) => v.pointer)).toEqual(["/servicePairs/fw/secondary"]);
    });
  });

  describe("SF005 ESXi version lockstep", () => {
    const body = (dpuVersion: string) =>
      `hosts:\n  esx-01:\n    os: { image: esxi-x86, version: "8.0.3", installVia: nic1 }\n    smartnics:\n      nic1:\n        os: { image: esxi-arm, version: "${dpuVersion}" }\n`;
    it("passes when host and DPU run the same ESXi version", () => {
      expect(violations(versionLockstep, body("8.0.3"))).toEqual([]);
    });
    it("fails if the DPU runs a different ESXi version than its host", () => {
      expect(violations(versionLockstep, body("8.0.2"))).toEqual([
        { pointer: "/hosts/esx-01/smartnics/nic1/os/version", message: "esx-01/nic1 runs esxi-arm 8.0.2 but host esx-01 runs esxi-x86 8.0.3" },
      ]);
    });
  });

  describe("SF006 cluster homogeneity", () => {
    const body = (other: string) =>
      `hosts:\n  esx-01:\n    smartnics:\n      nic1: { os: { image: esxi-arm, version: "8.0.3", cluster: c1 } }\n  ${other}:\n    smartnics:\n      nic1: { os: { image: esxi-arm, version: "8.0.3", cluster: c1 } }\n`;
    it("passes a cluster of one DPU model", () => {
      expect(violations(clusterHomogeneity, body("esx-02"))).toEqual([]);
    });
    it("fails if a cluster mixes DPU vendors or models", () => {
      const found = violations(clusterHomogeneity, body("edge-01"));
      expect(found).toEqual([
        { pointer: "/hosts/edge-01/smartnics/nic1/os/cluster", message: "cluster c1 mixes nvidia bluefield-3 (esx-01/nic1) with amd pensando-dsc2 (edge-01/nic1)" },
      ]);
    });
  });

  describe("SF007 services need dpu mode", () => {
    it("passes services on a DPU in dpu mode", () => {
      expect(violations(dpuMode, restrictedDpu("          a: { type: nsx-dfw, version: '1', cores: 1, memoryGiB: 1 }"))).toEqual([]);
    });
    it("fails if a DPU in nic mode runs a service or presents a device", () => {
      const found = violations(
        dpuMode,
        `hosts:\n  esx-01:\n    smartnics:\n      nic1:\n        mode: nic\n        services:\n          a: { type: nsx-dfw, version: '1', cores: 1, memoryGiB: 1 }\n        devices:\n          v: { kind: vnic }\n`,
      );
      expect(found.map((v) => v.pointer)).toEqual(["/hosts/esx-01/smartnics/nic1/services/a", "/hosts/esx-01/smartnics/nic1/devices/v"]);
    });
  });

  describe("SF008 mode-change disruption", () => {
    const body = (allow: boolean) => `hosts:\n  esx-01:\n    smartnics:\n      nic1: { mode: nic }\nmaintenance: { allowHostPowerCycle: ${allow} }\n`;
    it("passes a mode change when host power cycles are allowed", () => {
      expect(violations(modeChangeDisruption, body(true))).toEqual([]);
    });
    it("passes a DPU that keeps its factory mode", () => {
      expect(violations(modeChangeDisruption, `hosts:\n  esx-01:\n    smartnics:\n      nic1: { mode: dpu }\n`)).toEqual([]);
    });
    it("fails if a mode change is declared without allowing host power cycles", () => {
      const found = violations(modeChangeDisruption, body(false));
      expect(found).toHaveLength(1);
      expect(found[0].pointer).toBe("/hosts/esx-01/smartnics/nic1/mode");
    });
  });

  describe("SF009 no secrets", () => {
    it("passes service config without credentials", () => {
      expect(violations(noSecrets, restrictedDpu("          a: { type: nsx-dfw, version: '1', cores: 1, memoryGiB: 1, config: { managerUrl: 'https://nsx.lab' } }"))).toEqual([]);
    });
    it("fails if a password is written in service config", () => {
      const found = violations(noSecrets, restrictedDpu("          a: { type: nsx-dfw, version: '1', cores: 1, memoryGiB: 1, config: { adminPassword: hunter2 } }"));
      expect(found).toEqual([{ pointer: "/hosts/esx-01/smartnics/nic1/services/a/config/adminPassword", message: "'adminPassword' holds a credential in plain text" }]);
    });
    it("fails if a private key is written anywhere", () => {
      const found = violations(noSecrets, restrictedDpu('          a: { type: nsx-dfw, version: "1", cores: 1, memoryGiB: 1, config: { tls: ["-----BEGIN RSA PRIVATE KEY-----\\nMIIE"] } }'));
      expect(found.map((v) => v.message)).toEqual(["a private key is written in the stack"]);
    });
    it("fails if a management endpoint uses plain http", () => {
      const found = violations(noSecrets, restrictedDpu("          a: { type: nsx-dfw, version: '1', cores: 1, memoryGiB: 1, config: { managerEndpoint: 'http://nsx.lab' } }"));
      expect(found.map((v) => v.message)).toEqual(["management endpoint 'managerEndpoint' uses plain http"]);
    });
  });

  describe("SF010 accelerator single consumer", () => {
    const body = (second: boolean) =>
      `hosts:\n  esx-01:\n    smartnics: { nic1: {} }\n  esx-02:\n    smartnics: { nic1: {} }\n  esx-03:\n    smartnics: { nic1: {} }\nacceleratorShares:\n  a: { source: esx-01/fpga0, consumer: esx-02/nic1 }\n${second ? "  b: { source: esx-01/fpga0, consumer: esx-03/nic1 }\n" : ""}`;
    it("passes an accelerator shared once", () => {
      expect(violations(acceleratorSingleConsumer, body(false))).toEqual([]);
    });
    it("fails if an accelerator is shared with two consumers", () => {
      const found = violations(acceleratorSingleConsumer, body(true));
      expect(found).toEqual([
        { pointer: "/acceleratorShares/b/source", message: "accelerator esx-01/fpga0 is already shared by a; b would give it a second consumer (esx-03/nic1)" },
      ]);
    });
  });
});
