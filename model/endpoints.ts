/**
 * The endpoints file (`schemas/endpoints.schema.json`): where each DPU's management port is
 * reached, by serial. An emulator writes one; for real BMCs it is written by hand.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { InputError } from "../schemas/diagnostics";
import type { EndpointsFile } from "../schemas/generated/endpoints";
import { schemaPath } from "../schemas/validate";
import { loadValidatedYaml } from "../schemas/validated-yaml";
import type { Route } from "./declarations";

/**
 * The file, validated (errors name file, line and column). A missing file is almost always
 * an emulator not started, or started with another `--state` folder: the error says how to
 * start one that writes this very file.
 */
export function readEndpointsFile(file: string): EndpointsFile {
  if (!fs.existsSync(file)) {
    const state = path.relative(process.cwd(), path.dirname(file)) || ".";
    throw new InputError([
      {
        file,
        line: 1,
        column: 1,
        path: "",
        message:
          `endpoints file not found: the emulator writes it into its --state folder; start one with ` +
          `\`npx smartfleet emulator start --inventory <fleet.yaml> --state ${state} --detach\`, ` +
          `or point smartfleet:endpoints at the endpoints file of your BMCs (schemas/endpoints.schema.json)`,
      },
    ]);
  }
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
