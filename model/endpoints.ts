/**
 * The endpoints file (`schemas/endpoints.schema.json`): where each DPU's management port is
 * reached, by serial. An emulator writes one; for real BMCs it is written by hand.
 */
import * as path from "node:path";
import type { EndpointsFile } from "../schemas/generated/endpoints";
import { loadValidatedYaml, schemaPath } from "../schemas/validate";
import type { Route } from "./declarations";

/** The file, validated (errors name file, line and column). */
export function readEndpointsFile(file: string): EndpointsFile {
  return loadValidatedYaml<EndpointsFile>(file, schemaPath("endpoints"));
}

/** Routes by DPU serial, for `resourceDeclarations`. */
export function routesOf(endpoints: EndpointsFile): Map<string, Route> {
  return new Map(
    endpoints.dpus.map((dpu) => {
      const url = new URL(dpu.url);
      return [dpu.serial, { address: url.hostname, port: Number(url.port || 443) }];
    }),
  );
}

/** The CA file an endpoints file names, resolved against the file's folder. */
export function caFileOf(endpointsFile: string, endpoints: EndpointsFile): string {
  return path.resolve(path.dirname(endpointsFile), endpoints.caFile);
}
