import * as path from "node:path";
import type { PolicyResource, StackValidationArgs } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { checkStack } from "../../policies/check";
import { crossGuardPolicies } from "../../policies/crossguard";
import { kindRow, typeToken as resourceType } from "../../schemas/kinds";
import { schemaPath, validateValue } from "../../schemas/validate";
import { SourceIndex } from "../../schemas/source-index";
import { resourceDeclarations } from "../../model/declarations";
import { loadStackSync } from "../../model/load";

const examples = path.resolve(__dirname, "..", "..", "examples", "stacks");

/** What Pulumi would hand the pack for a loaded stack: one resource per declaration. */
function resourcesOf(file: string): PolicyResource[] {
  return resourceDeclarations(loadStackSync(file)).map(
    (d) =>
      ({
        type: resourceType(d.kind),
        urn: `urn:pulumi:test::smartfleet::${resourceType(d.kind)}::${d.name}`,
        name: d.name,
        // the dynamic provider's code, credentials and output placeholders travel as inputs too
        props: { __provider: "exports.handler = ...", password: "s3cret", state: undefined, ...structuredClone(d.inputs) },
      }) as unknown as PolicyResource,
  );
}

function runPack(resources: PolicyResource[]) {
  const reports: { policy: string; level: string | undefined; message: string; urn?: string }[] = [];
  const args = { resources } as unknown as StackValidationArgs;
  for (const policy of crossGuardPolicies()) {
    void policy.validateStack(args, (message: string, urn?: string) => reports.push({ policy: policy.name, level: policy.enforcementLevel, message, urn }));
  }
  return reports;
}

describe("CrossGuard policy pack", () => {
  it("declares resource inputs that match the resource input schemas", () => {
    for (const file of ["lab-east.yaml", "datacenter.yaml", "needs-review.yaml"]) {
      for (const d of resourceDeclarations(loadStackSync(path.join(examples, file)))) {
        const errors = validateValue(structuredClone(d.inputs), schemaPath(kindRow(d.kind)!.inputSchema), new SourceIndex({ file: d.name, line: 1, column: 1 }));
        expect(errors, `${d.kind} ${d.name}`).toEqual([]);
      }
    }
  });

  it("reports nothing for a clean stack's resources", () => {
    expect(runPack(resourcesOf(path.join(examples, "datacenter.yaml")))).toEqual([]);
    expect(runPack(resourcesOf(path.join(examples, "lab-east.yaml")))).toEqual([]);
  });

  it("fails if the resources break rules: the same findings as smartfleet check, against the right URNs", () => {
    const file = path.join(examples, "needs-review.yaml");
    const reports = runPack(resourcesOf(file));
    const fromCheck = checkStack(loadStackSync(file));
    // CrossGuard has no stack-file waivers, so waived findings are reported too.
    const expected = [...fromCheck.findings, ...fromCheck.waived].map((f) => `${f.ruleId}: ${f.message}`).sort();
    expect(reports.map((r) => r.message).sort()).toEqual(expected);
    const isolation = reports.find((r) => r.message.startsWith("SF004"));
    expect(isolation).toMatchObject({ level: "mandatory", urn: expect.stringContaining("::esx-01-nic1-fw") });
    const antiAffinity = reports.find((r) => r.message.startsWith("SF003"));
    expect(antiAffinity).toMatchObject({ policy: "sf003-service-pair-anti-affinity-advisory", level: "advisory", urn: expect.stringContaining("::pair-witness") });
  });

  it("fails if a resource's inputs do not match its schema, and leaves it out of the model", () => {
    const resources = resourcesOf(path.join(examples, "lab-east.yaml"));
    const nic = resources.find((r) => r.type === resourceType("SmartNic"));
    if (!nic) throw new Error("no SmartNic in the example");
    (nic.props as Record<string, unknown>).mode = "turbo";
    const reports = runPack(resources);
    expect(reports.find((r) => r.policy === "sf000-valid-inputs")).toMatchObject({
      urn: nic.urn,
      message: expect.stringContaining("/mode  must be equal to one of the allowed values"),
    });
  });

  it("ignores resources that are not smartfleet's", () => {
    const other = { type: "random:index/randomId:RandomId", urn: "urn:x", name: "x", props: { byteLength: 8 } } as unknown as PolicyResource;
    expect(runPack([other])).toEqual([]);
  });
});
