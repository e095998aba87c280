/**
 * Redfish error bodies from the DMTF Base message registry, vendored into
 * `data/base-registry.json` by scripts/vendor-redfish.js so the emulator never reads
 * outside its own tree while it serves.
 */
import baseRegistryData = require("./data/base-registry.json");

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

const base: Registry = baseRegistryData;

function baseRegistry(): Registry {
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
