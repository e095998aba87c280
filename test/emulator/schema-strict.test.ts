/**
 * A strict, schema-driven read of every port: for each vendor identity, every system, manager,
 * chassis and network adapter, and every resource a port serves as a BMC, is checked against
 * the DMTF CSDL its `@odata.type` names (the files vendored in test/conformance/schemas):
 * each property the schema marks `Redfish.Required` is present, and no top-level property is
 * one the type (in that version, through its base types) does not define.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestFleet, type TestFleet } from "./helpers";

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const SCHEMAS = path.join(__dirname, "..", "conformance", "schemas");

/** One entity type of the CSDL: its base type and its properties (with whether each is required). */
interface EntityType {
  base?: string;
  properties: Map<string, boolean>;
}

/** Entity types by qualified name (`Manager.v1_19_0.Manager`), read lazily per schema file. */
class Csdl {
  private readonly types = new Map<string, EntityType>();
  private readonly loaded = new Set<string>();

  private load(file: string): void {
    if (this.loaded.has(file)) return;
    this.loaded.add(file);
    const xml = fs.readFileSync(path.join(SCHEMAS, file), "utf8");
    for (const schema of xml.matchAll(/<Schema [^>]*Namespace="([^"]+)"[^>]*>([\s\S]*?)<\/Schema>/g)) {
      for (const entity of schema[2].matchAll(/<EntityType Name="(\w+)"([^>]*?)(\/>|>([\s\S]*?)<\/EntityType>)/g)) {
        const base = /BaseType="([^"]+)"/.exec(entity[2])?.[1];
        const properties = new Map<string, boolean>();
        for (const p of (entity[4] ?? "").matchAll(/<(Property|NavigationProperty) Name="(\w+)"[^>]*?(\/>|>([\s\S]*?)<\/\1>)/g)) {
          properties.set(p[2], (p[4] ?? "").includes('Term="Redfish.Required"'));
        }
        this.types.set(`${schema[1]}.${entity[1]}`, { base, properties });
      }
    }
  }

  /** Every property of a type through its base types: name -> required. */
  properties(qualified: string): Map<string, boolean> {
    const all = new Map<string, boolean>();
    for (let name: string | undefined = qualified; name; ) {
      const file = `${name.split(".")[0]}_v1.xml`;
      if (!fs.existsSync(path.join(SCHEMAS, file))) throw new Error(`no CSDL file ${file} for ${name}`);
      this.load(file);
      const type = this.types.get(name);
      if (!type) throw new Error(`the CSDL has no entity type ${name}`);
      for (const [p, required] of type.properties) all.set(p, (all.get(p) ?? false) || required);
      name = type.base;
    }
    return all;
  }
}

/** What is wrong with a payload against its `@odata.type`: required properties missing, unknown ones present. */
function problems(csdl: Csdl, body: Body): string[] {
  const m = /^#(\w+)\.(v\d+_\d+_\d+)\.(\w+)$/.exec(String(body["@odata.type"]));
  if (!m) return [`${body["@odata.id"]}: @odata.type '${body["@odata.type"]}' is not versioned`];
  const props = csdl.properties(`${m[1]}.${m[2]}.${m[3]}`);
  const out: string[] = [];
  for (const [name, required] of props) if (required && !(name in body)) out.push(`${body["@odata.id"]}: required ${name} missing`);
  for (const key of Object.keys(body)) {
    if (key.startsWith("@") || key.includes("@") || key === "Oem") continue;
    if (!props.has(key)) out.push(`${body["@odata.id"]}: ${key} is not a property of ${m[1]}.${m[2]}`);
  }
  return out;
}

/** The resources checked on a port: systems, manager, chassis, adapter, and what a BMC adds. */
function uris(ids: { system: string; manager: string; chassis: string; adapter: string }): string[] {
  const v1 = "/redfish/v1";
  const m = `${v1}/Managers/${ids.manager}`;
  const ch = `${v1}/Chassis/${ids.chassis}`;
  const ad = `${ch}/NetworkAdapters/${ids.adapter}`;
  return [
    `${v1}/Systems/${ids.system}`, `${v1}/Systems/Host`, m, ch, ad,
    `${v1}/Systems/${ids.system}/ResetActionInfo`, `${v1}/Systems/Host/BootOptions/Boot0002`,
    `${m}/ResetActionInfo`, `${m}/EthernetInterfaces/eth0`, `${m}/NetworkProtocol`, `${m}/LogServices/EventLog`,
    `${m}/NetworkProtocol/HTTPS/Certificates/1`,
    `${ch}/PowerSubsystem`, `${ch}/ThermalSubsystem`, `${ch}/ThermalSubsystem/ThermalMetrics`, `${ch}/Sensors/bluefield_temp`,
    `${ad}/Ports/eth0`, `${ad}/Metrics`,
    `${v1}/CertificateService`, `${v1}/CertificateService/CertificateLocations`, `${v1}/EventService`,
  ];
}

describe("every system, manager, chassis and adapter, read strictly against the DMTF CSDL", () => {
  let f: TestFleet;
  const csdl = new Csdl();
  beforeAll(async () => {
    f = await startTestFleet();
    for (const s of ["NV1", "AMD1", "IPU1"]) await f.claim(s);
  });
  afterAll(() => f.emu.stop());

  const identities = [
    ["nvidia", "NV1", { system: "Bluefield", manager: "Bluefield_BMC", chassis: "Card1", adapter: "NvidiaNetworkAdapter" }],
    ["amd", "AMD1", { system: "Card1-SoC", manager: "BMC", chassis: "Card1", adapter: "DSC" }],
    ["intel", "IPU1", { system: "IPU", manager: "IMC", chassis: "IPU_Card", adapter: "IPU" }],
  ] as const;

  for (const [vendor, serial, ids] of identities) {
    it(`${vendor}: every required property present, no property the schema lacks`, async () => {
      await f.call(serial, "POST", "/redfish/v1/Systems/Host/Actions/ComputerSystem.Reset", { ResetType: "ForceRestart" });
      await f.advance(60_000);
      const found: string[] = [];
      for (const uri of [...uris(ids), "/redfish/v1/Managers/" + ids.manager + "/LogServices/EventLog/Entries"]) {
        const answer = await f.call(serial, "GET", uri);
        expect(answer.status, `${uri}: ${answer.text}`).toBe(200);
        // A collection (unversioned) is checked through its inlined members (the event log's).
        if (Array.isArray(answer.body.Members)) {
          expect(answer.body.Members.length, uri).toBeGreaterThan(0);
          for (const member of answer.body.Members) found.push(...problems(csdl, member));
        } else found.push(...problems(csdl, answer.body));
      }
      expect(found).toEqual([]);
    });
  }

  it("catches what it is for: a missing required property and an unknown one", () => {
    const body = { "@odata.id": "/x", "@odata.type": "#Manager.v1_19_0.Manager", Name: "m", Bogus: 1 };
    expect(problems(csdl, body)).toEqual(["/x: required Id missing", "/x: Bogus is not a property of Manager.v1_19_0"]);
  });
});
