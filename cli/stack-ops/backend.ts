/**
 * Which state backend a command talks to, and what Pulumi's failures mean in its terms:
 * a stack locked by another update, a PostgreSQL server that refuses the password or does
 * not answer. Passwords never reach a message: every URL printed is redacted.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { connectProblem } from "../db/cluster";

/** The backend of a project: its URL and kind. */
export interface Backend {
  url: string;
  kind: "file" | "postgres" | "other";
}

/** The backend in use: PULUMI_BACKEND_URL, else Pulumi.yaml's `backend.url`, else Pulumi's default (Pulumi Cloud). */
export function backendOf(projectDir: string, env: NodeJS.ProcessEnv = process.env): Backend {
  let url = env.PULUMI_BACKEND_URL;
  if (!url) {
    const file = path.join(projectDir, "Pulumi.yaml");
    const doc = fs.existsSync(file) ? (YAML.parse(fs.readFileSync(file, "utf8")) as { backend?: { url?: string } } | null) : null;
    url = doc?.backend?.url ?? "https://api.pulumi.com";
  }
  const kind = url.startsWith("file://") ? "file" : /^postgres(ql)?:\/\//.test(url) ? "postgres" : "other";
  return { url, kind };
}

/** The URL with any password replaced by `****`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "****";
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:****@");
  }
}

/** Removes the password of `url` wherever it appears in `text`. */
export function redactIn(text: string, url: string): string {
  let password = "";
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    return text;
  }
  if (!password) return text;
  return text.split(password).join("****").split(encodeURIComponent(password)).join("****");
}

/** A failure of a stack operation, explained. */
export interface Explained {
  /** `lock`: another update holds the stack; `backend`: the state store cannot be reached; `failed`: the operation itself failed. */
  kind: "lock" | "backend" | "failed";
  message: string;
}

/**
 * Reads what a failed `pulumi` run printed. The lock message is the DIY backend's (the same
 * for file:// and postgres://): "the stack is currently locked by N lock(s)" and one line
 * per lock with who holds it.
 */
export function explainFailure(text: string, stack: string, backend: Backend): Explained {
  const clean = redactIn(text, backend.url);
  if (/the stack is currently locked by/.test(clean)) {
    // Pulumi's message reaches us on stdout and stderr alike: each holder once.
    const holders = [...new Set([...clean.matchAll(/created by (\S+) \(pid (\d+)\) at (\S+)/g)].map((m) => `${m[1]} (pid ${m[2]}) since ${m[3]}`))];
    const hint = backend.kind === "file" ? `\`smartfleet recover --stack ${stack}\` clears it if that process is gone` : `\`pulumi cancel --stack ${stack}\` clears it if that process is gone`;
    return { kind: "lock", message: `stack ${stack} is locked by another update${holders.length ? ` (${holders.join("; ")})` : ""}: wait for it to end; ${hint}` };
  }
  if (backend.kind === "postgres" && /unable to open state database|failed to ping PostgreSQL|pq: |dial tcp/.test(clean)) {
    const u = new URL(backend.url);
    const where = `${u.hostname}:${u.port || 5432}`;
    const why = connectProblem(clean, where, decodeURIComponent(u.username)) ?? firstErrorLine(clean);
    return { kind: "backend", message: `the state backend ${redactUrl(backend.url)} cannot be used: ${why}` };
  }
  return { kind: "failed", message: firstErrorLine(clean) };
}

/** The first `error:` line of Pulumi's output, else its first non-empty line. */
export function firstErrorLine(text: string): string {
  const lines = text.split("\n").map((l) => l.trim()).filter(Boolean);
  const error = lines.find((l) => /^error:/i.test(l));
  return (error ?? lines[0] ?? "unknown error").replace(/^error:\s*/i, "");
}
