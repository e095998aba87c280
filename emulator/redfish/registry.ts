/**
 * Redfish error bodies from the DMTF Base message registry
 * (`../shared/redfish/registries/Base.1.22.1.json`, a sibling of the repository).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot } from "../inventory";

interface RegistryMessage {
  Message: string;
  Resolution?: string;
  MessageSeverity?: string;
  NumberOfArgs?: number;
}

interface Registry {
  Id: string;
  Messages: Record<string, RegistryMessage>;
}

let base: Registry | undefined;

/** The folder of shared Redfish reference data (`../shared/redfish` beside the repo). */
export function sharedRedfishDir(): string {
  return path.resolve(repoRoot(), "../shared/redfish");
}

function baseRegistry(): Registry {
  if (!base) {
    const file = path.join(sharedRedfishDir(), "registries", "Base.1.22.1.json");
    try {
      base = JSON.parse(fs.readFileSync(file, "utf8")) as Registry;
    } catch (cause) {
      throw new Error(`cannot read the Base message registry at ${file}`, { cause });
    }
  }
  return base;
}

/** One `@Message.ExtendedInfo` entry. */
export interface ExtendedInfo {
  "@odata.type": string;
  MessageId: string;
  Message: string;
  MessageArgs: string[];
  Resolution: string;
  Severity: string;
  MessageSeverity: string;
}

/** A Base registry message with its arguments filled in. */
export function baseMessage(key: string, args: string[] = []): ExtendedInfo {
  const reg = baseRegistry();
  const m = reg.Messages[key];
  if (!m) throw new Error(`Base registry has no message '${key}'`);
  const text = m.Message.replace(/%(\d+)/g, (_, n: string) => args[Number(n) - 1] ?? "");
  const severity = m.MessageSeverity ?? "Critical";
  return {
    "@odata.type": "#Message.v1_1_1.Message",
    MessageId: `${reg.Id}.${key}`,
    Message: text,
    MessageArgs: args.slice(0, m.NumberOfArgs ?? args.length),
    Resolution: m.Resolution ?? "None.",
    Severity: severity,
    MessageSeverity: severity,
  };
}

/** A Redfish error body: `code` and `message` plus the registry entry. */
export function errorBody(key: string, args: string[], message?: string): { error: { code: string; message: string; "@Message.ExtendedInfo": ExtendedInfo[] } } {
  const info = baseMessage(key, args);
  return { error: { code: info.MessageId, message: message ?? info.Message, "@Message.ExtendedInfo": [info] } };
}
