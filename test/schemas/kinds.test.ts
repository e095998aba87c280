import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { KINDS } from "../../providers/kinds";
import { KIND_TABLE, kindOfType, typeToken } from "../../schemas/kinds";
import { schemaPath } from "../../schemas/validate";

describe("the kind table", () => {
  it("lists the eight kinds in the order a fleet is brought up", () => {
    expect(KIND_TABLE.map((k) => k.kind)).toEqual(["SmartNic", "Host", "DpuOs", "DpuService", "HostDevice", "ServicePair", "HostOsInstall", "AcceleratorShare"]);
  });

  it.each(KIND_TABLE.map((row) => [row.kind, row] as const))("%s has an input schema, a provider implementing it and a test file named after it", (kind, row) => {
    expect(fs.existsSync(schemaPath(row.inputSchema))).toBe(true);
    expect(KINDS.find((k) => k.kind === kind)?.implementation.kind).toBe(kind);
    expect(fs.existsSync(path.resolve(__dirname, "..", "..", "providers", `${row.providerFile}.ts`))).toBe(true);
    expect(fs.existsSync(path.resolve(__dirname, "..", "providers", `${row.providerFile}.test.ts`))).toBe(true);
  });

  it("maps type tokens both ways and knows no other kinds", () => {
    expect(typeToken("DpuOs")).toBe("pulumi-nodejs:dynamic/smartfleet:DpuOs");
    expect(kindOfType(typeToken("DpuOs"))).toBe("DpuOs");
    expect(kindOfType("pulumi-nodejs:dynamic/smartfleet:Toaster")).toBeUndefined();
    expect(kindOfType("aws:s3/bucket:Bucket")).toBeUndefined();
  });
});
