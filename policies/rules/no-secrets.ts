import { childPointer } from "../../schemas/source-index";
import type { PolicyRule, Violation } from "../rule";

/** Keys whose string values are credentials. */
const SECRET_KEY = /(pass(word|wd|phrase)?|secret|token|api[-_]?key|private[-_]?key|credential|auth[-_]?key)$/i;
/** Any PEM private key block. */
const PRIVATE_KEY = /-----BEGIN ([A-Z ]+ )?PRIVATE KEY-----/;
/** Keys naming a management endpoint. */
const ENDPOINT_KEY = /(endpoint|management(url|uri|address)?|bmc(url|uri)?|redfish(url|uri)?)$/i;

function scan(value: unknown, at: string, out: Violation[], depth = 0): void {
  if (depth > 64) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => scan(item, childPointer(at, i), out, depth + 1));
    return;
  }
  if (typeof value !== "object" || value === null) {
    if (typeof value === "string" && PRIVATE_KEY.test(value)) out.push({ pointer: at, message: "a private key is written in the stack" });
    return;
  }
  for (const [key, inner] of Object.entries(value)) {
    const here = childPointer(at, key);
    if (typeof inner === "string" && SECRET_KEY.test(key) && inner.length > 0 && !PRIVATE_KEY.test(inner)) {
      out.push({ pointer: here, message: `'${key}' holds a credential in plain text` });
    } else if (typeof inner === "string" && ENDPOINT_KEY.test(key) && /^http:\/\//i.test(inner)) {
      out.push({ pointer: here, message: `management endpoint '${key}' uses plain http` });
    } else {
      scan(inner, here, out, depth + 1);
    }
  }
}

/** SF009: no credentials or private keys in stack files; management endpoints are https. */
export const noSecrets: PolicyRule = {
  id: "SF009",
  name: "no-secrets",
  severity: "error",
  description: "Stack files must not contain credentials or private keys (they end up in version control and Pulumi state), and management endpoints must use https.",
  remediation: "Move the value to Pulumi secret configuration (e.g. smartfleet:managementPassword) and refer to it; use https:// for management endpoints.",
  check(model) {
    const violations: Violation[] = [];
    scan(model.stack, "", violations);
    return violations;
  },
};
