/**
 * `$metadata` (the CSDL references of every schema the port uses), the OData service
 * document, and the project's own CSDL (`emulator/schema/SmartFleet_v1.xml`).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { sourcePath } from "../../schemas/paths";
import csdlNamespaces = require("./data/csdl-namespaces.json");

/** The DMTF CSDL files $metadata references, with the namespaces each declares (vendored). */
const DMTF_SCHEMAS: Record<string, string[]> = csdlNamespaces.files;

let metadataCache: string | undefined;
let csdlCache: string | undefined;

function namespacesIn(xml: string): string[] {
  return [...xml.matchAll(/<Schema [^>]*Namespace="([^"]+)"/g)].map((m) => m[1]);
}

/** The project's OEM CSDL. */
export function csdlFile(): string {
  csdlCache ??= fs.readFileSync(sourcePath("emulator", "schema", "SmartFleet_v1.xml"), "utf8");
  return csdlCache;
}

/** The `$metadata` document. */
export function metadataXml(): string {
  if (metadataCache) return metadataCache;
  const refs = Object.entries(DMTF_SCHEMAS).map(([file, namespaces]) =>
    reference(`http://redfish.dmtf.org/schemas/v1/${file}`, namespaces),
  );
  refs.push(reference("/redfish/v1/schemas/SmartFleet_v1.xml", namespacesIn(csdlFile())));
  metadataCache = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">`,
    ...refs,
    `  <edmx:DataServices>`,
    `    <Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="Service">`,
    `      <EntityContainer Name="Service" Extends="ServiceRoot.v1_17_0.ServiceContainer"/>`,
    `    </Schema>`,
    `  </edmx:DataServices>`,
    `</edmx:Edmx>`,
    ``,
  ].join("\n");
  return metadataCache;
}

function reference(uri: string, namespaces: string[]): string {
  const alias = (ns: string): string => (ns === "RedfishExtensions.v1_0_0" ? ` Alias="Redfish"` : "");
  return [`  <edmx:Reference Uri="${uri}">`, ...namespaces.map((ns) => `    <edmx:Include Namespace="${ns}"${alias(ns)}/>`), `  </edmx:Reference>`].join("\n");
}

/** The OData service document (`/redfish/v1/odata`). */
export function odataServiceDocument(): Record<string, unknown> {
  const top = ["Systems", "Chassis", "Managers", "UpdateService", "TaskService", "SessionService", "AccountService", "Storage"];
  return {
    "@odata.context": "/redfish/v1/$metadata",
    value: [
      { name: "Service", kind: "Singleton", url: "/redfish/v1/" },
      ...top.map((name) => ({ name, kind: "Singleton", url: `/redfish/v1/${name}` })),
      { name: "Sessions", kind: "Singleton", url: "/redfish/v1/SessionService/Sessions" },
    ],
  };
}
