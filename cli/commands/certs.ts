/**
 * `smartfleet certs rotate STACKFILE --stack NAME --ca-cert FILE --ca-key FILE [--days N]
 * [--dpu SERIAL,...] [--parallel N] [--dry-run] [--set-config]`: gives every managed DPU's
 * management port an HTTPS certificate from the operator's own CA, through the port's
 * CertificateService (`providers/redfish/certificates.ts`: the port makes a signing request
 * for its own key, the CA signs it here, the port takes it, a new connection trusting only
 * that CA confirms it). The ports, their CA and the management password come from Pulumi
 * stack NAME's configuration, as `graph --live` reads them (`cli/graph/live.ts`).
 *
 * A port already presenting a certificate from that CA with more than a third of `--days`
 * left is skipped, so a rerun after a partial failure only does what is left. Afterwards the
 * stack must trust the operator's CA: while some ports still present the old certificate,
 * `smartfleet:caFile` must hold both CAs (Node's TLS takes a PEM bundle as its CA list);
 * once all do, the operator's CA alone. The command says which, and with `--set-config`
 * writes the bundle (`.smartfleet/certs/<stack>-ca.pem`) and sets `smartfleet:caFile`.
 *
 * Exit 0: every port chosen rotated or skipped; 1: a port failed; 2: usage or input error
 * (an unusable CA, which stops the command before any port is touched).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { X509Certificate } from "node:crypto";
import { loadStackSync, type LoadedStack } from "../../model/load";
import { endpointUrl } from "../../providers/common/dpu";
import { projectRoot } from "../../providers/common/settings";
import { InputError } from "../../schemas/diagnostics";
import { defineCommand, EXIT, parseCommand, subCommand } from "../args";
import type { ObservedTarget } from "../graph/live";

/** One line for `smartfleet help`. */
export const summary = "rotate the management ports' HTTPS certificates to ones signed by your CA: rotate";

const ROTATE = defineCommand({
  name: "smartfleet certs rotate",
  summary: "give every managed DPU's management port a certificate from your CA (GenerateCSR, signed here, ReplaceCertificate, confirmed on a new connection). Exit 0: all rotated or skipped; 1: a port failed; 2: usage or input error",
  positionals: { name: "STACKFILE", description: "the stack definition (e.g. stacks/lab.yaml)", min: 1, max: 1 },
  options: {
    stack: { type: "string", required: true, valueName: "NAME", description: "the Pulumi stack whose endpoints, CA and management password reach the ports" },
    "ca-cert": { type: "string", required: true, valueName: "FILE", description: "your CA's certificate (PEM)" },
    "ca-key": { type: "string", required: true, valueName: "FILE", description: "your CA's private key (PEM, unencrypted; read here only, never sent)" },
    days: { type: "number", integer: true, min: 1, default: 90, valueName: "N", description: "validity of the new certificates; a port with more than N/3 days left on one from your CA is skipped" },
    dpu: { type: "string", multiple: true, valueName: "SERIAL,...", description: "only these DPUs (by serial)" },
    parallel: { type: "number", integer: true, min: 1, default: 8, valueName: "N", description: "ports rotated at once" },
    "dry-run": { type: "boolean", description: "say what would be done to each port; change nothing" },
    "set-config": { type: "boolean", description: "afterwards set smartfleet:caFile to what the stack must trust (writing a bundle of both CAs while some ports are not rotated)" },
    cwd: { type: "string", valueName: "DIR", description: "the Pulumi project directory (default: the working directory)" },
  },
});

const GROUP = defineCommand({ name: "smartfleet certs", summary, commands: { rotate: ROTATE.summary } });

/** Runs `certs <sub>`; resolves to the exit code. */
export async function run(args: string[]): Promise<number> {
  const sub = subCommand(GROUP, ["rotate"], args);
  return typeof sub === "number" ? sub : rotate(sub.rest);
}

/** A problem with the input: reported with exit 2, before any port is touched. */
class CertsInputError extends Error {}

async function rotate(args: string[]): Promise<number> {
  const parsed = parseCommand(ROTATE, args);
  if (typeof parsed === "number") return parsed;
  const v = parsed.values;
  const prefix = "smartfleet certs rotate";
  // Loaded here: `smartfleet help` must not load the Redfish client or Pulumi.
  const redfish = await import("../../providers/redfish");
  const live = await import("../graph/live");
  try {
    const caFiles = { certPem: readInput(v["ca-cert"], "--ca-cert"), keyPem: readInput(v["ca-key"], "--ca-key") };
    const ca = await redfish.loadOperatorCa(caFiles);
    const cwd = path.resolve(v.cwd ?? process.cwd());
    const { targets, caPem, caFile } = await live.liveTargets(v.stack, loadStack(parsed.positionals[0]), cwd);
    const chosen = chooseDpus(targets, v.dpu.flatMap((d) => d.split(",")).map((d) => d.trim()).filter(Boolean));
    // Rotated and unrotated ports alike must be reachable during the run.
    const trust = bundle([caPem, ca.certPem]);
    const results = await inPool(chosen, v.parallel, (t) => rotateOne(t, trust, caFiles, { days: v.days, dryRun: v["dry-run"] }));
    for (const line of summaryLines(results, v["dry-run"])) console.log(line);
    if (!v["dry-run"]) await adviseTrust({ targets, stack: v.stack, cwd, oldCaFile: caFile, oldCaPem: caPem, caCertFile: path.resolve(v["ca-cert"]), caPem: ca.certPem, caSubject: ca.subject, set: v["set-config"] });
    return results.some((r) => r.outcome === "failed") ? EXIT.findings : EXIT.ok;
  } catch (error) {
    if (error instanceof CertsInputError || error instanceof InputError || error instanceof redfish.OperatorCaError || error instanceof live.LiveConfigError) {
      console.error(`${prefix}: ${error.message}${error instanceof redfish.OperatorCaError ? "; no port was touched" : ""}`);
      return EXIT.usage;
    }
    throw error;
  }
}

function readInput(file: string, option: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (error) {
    throw new CertsInputError(`cannot read ${option} ${file}: ${(error as Error).message}`);
  }
}

function loadStack(file: string): LoadedStack {
  return loadStackSync(path.resolve(file));
}

/** The managed DPUs `--dpu` names (all when none); an unknown serial is an input error. */
function chooseDpus(targets: ObservedTarget[], serials: string[]): ObservedTarget[] {
  if (serials.length === 0) return targets;
  const unknown = serials.filter((s) => !targets.some((t) => t.target.serial === s));
  if (unknown.length) throw new CertsInputError(`--dpu ${unknown.join(",")}: not a managed DPU of the stack (managed: ${targets.map((t) => t.target.serial).join(", ")})`);
  return targets.filter((t) => serials.includes(t.target.serial));
}

/** PEM certificates joined, each once. */
function bundle(pems: string[]): string {
  const blocks = pems.flatMap((p) => p.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []);
  const byFingerprint = new Map(blocks.map((b) => [new X509Certificate(b).fingerprint256, b]));
  return [...byFingerprint.values()].join("\n") + "\n";
}

/** What happened to one port (its line is printed as it happens). */
interface PortResult {
  outcome: "rotated" | "skipped" | "would-rotate" | "failed";
}

/** Rotates one DPU's port with the stack's management password (then its factory one, on a 401). */
async function rotateOne(t: ObservedTarget, trust: string, caFiles: { certPem: string; keyPem: string }, opts: { days: number; dryRun: boolean }): Promise<PortResult> {
  const { RedfishError, rotatePortCertificate, withFirstAcceptedPassword } = await import("../../providers/redfish");
  const url = endpointUrl(t.target);
  const label = `${t.id} (${t.target.serial}) ${url}`;
  try {
    const options = { callTimeoutMs: 15_000, operationTimeoutMs: 120_000, retries: 2 };
    const done = await withFirstAcceptedPassword({ url, caPem: trust, username: t.username }, t.passwords, options, (client) => rotatePortCertificate(client, caFiles, { days: opts.days, dryRun: opts.dryRun }));
    if (done.action === "rotated") console.log(`${label}: rotated, valid until ${done.validTo}`);
    if (done.action === "skipped") console.log(`${label}: skipped, already presents a certificate from this CA valid until ${done.validTo} (${done.daysLeft} days left)`);
    if (done.action === "would-rotate") console.log(`${label}: would rotate (${done.why})`);
    return { outcome: done.action };
  } catch (error) {
    const why = t.passwords.length === 0 ? "no password to log in with: set smartfleet:managementPassword" : error instanceof RedfishError && error.status === 403 ? "the port is not claimed yet (run up first)" : (error as Error).message;
    console.log(`${label}: FAILED: ${why}`);
    return { outcome: "failed" };
  }
}

/** Runs `work` on every item, at most `limit` at once. */
async function inPool<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function summaryLines(results: PortResult[], dryRun: boolean): string[] {
  const count = (o: PortResult["outcome"]): number => results.filter((r) => r.outcome === o).length;
  const parts = dryRun ? [`${count("would-rotate")} would rotate`, `${count("skipped")} skipped`, `${count("failed")} failed`] : [`${count("rotated")} rotated`, `${count("skipped")} skipped`, `${count("failed")} failed`];
  return [`${parts.join(", ")} of ${results.length} ports${dryRun ? " (dry run: nothing changed)" : ""}`];
}

/** What `adviseTrust` needs to know. */
interface TrustContext {
  targets: ObservedTarget[];
  stack: string;
  cwd: string;
  /** The CA file the stack trusts now, and its PEM. */
  oldCaFile: string;
  oldCaPem: string;
  caCertFile: string;
  caPem: string;
  caSubject: string;
  /** Set `smartfleet:caFile` instead of saying what to set. */
  set: boolean;
}

/**
 * Says what `smartfleet:caFile` must be now — the operator's CA alone once every managed
 * port presents its certificate, else a bundle of it and the CA the stack trusts now — and
 * sets it with `--set-config`. Every managed port is asked (one TLS handshake each), not
 * only those of this run.
 */
async function adviseTrust(c: TrustContext): Promise<void> {
  const { presentedCertificate } = await import("../../providers/redfish");
  const presented = await Promise.all(c.targets.map((t) => presentedCertificate(endpointUrl(t.target), c.caPem)));
  const left = c.targets.filter((_, i) => !presented[i].verified).map((t) => t.target.serial);
  const root = projectRoot(c.cwd);
  const bundleFile = path.join(root, ".smartfleet", "certs", `${c.stack}-ca.pem`);
  const wanted = left.length === 0 ? c.caCertFile : bundleFile;
  const why = left.length === 0 ? `every managed port presents a certificate from ${c.caSubject}: the stack needs to trust that CA only` : `${left.length} managed port(s) still present the old certificate (${left.join(", ")}): the stack must trust both CAs until they are rotated`;
  if (path.resolve(c.oldCaFile) === path.resolve(wanted) && (left.length === 0 || c.oldCaPem.includes(c.caPem.trim()))) {
    console.log(`${why}; smartfleet:caFile (${c.oldCaFile}) already is that`);
    return;
  }
  // Pulumi's settings resolve a relative caFile against the project; one outside it stays absolute.
  const inProject = !path.relative(root, wanted).startsWith("..");
  const relative = inProject ? path.relative(root, wanted) : wanted;
  if (!c.set) {
    const make = left.length ? `  mkdir -p ${path.relative(root, path.dirname(bundleFile))} && cat ${c.oldCaFile} ${c.caCertFile} > ${relative}\n` : "";
    console.log(`${why}. Set it (or rerun with --set-config):\n${make}  npm run pulumi -- config set smartfleet:caFile ${relative} --stack ${c.stack}`);
    return;
  }
  if (left.length) {
    fs.mkdirSync(path.dirname(bundleFile), { recursive: true });
    fs.writeFileSync(bundleFile, bundle([c.oldCaPem, c.caPem]));
  }
  const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
  // Set on the stack by name: selecting it would change the user's selected stack.
  await (await LocalWorkspace.create({ workDir: root })).setConfig(c.stack, "smartfleet:caFile", { value: relative });
  console.log(`${why}; set smartfleet:caFile to ${relative}${left.length ? " (a bundle of both CAs)" : ""}`);
}
