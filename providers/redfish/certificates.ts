/**
 * Rotating a management port's HTTPS certificate to one signed by the operator's CA, over
 * DMTF's CertificateService: the port makes a signing request for its own key
 * (`GenerateCSR`: the key never leaves the port), the request is checked and signed here
 * (`operator-ca.ts`), the port takes the certificate (`ReplaceCertificate`), and a new TLS
 * connection that trusts only the operator's CA confirms the port presents it. A port that
 * already presents a certificate from that CA with enough time left is left alone.
 */
import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import * as tls from "node:tls";
import type { RedfishClient } from "./client";
import { RedfishError } from "./errors";
import { asRecord, linkOf } from "./odata";
import { checkSigningRequest, issueServerCertificate, loadOperatorCa, oneLine, type OperatorCa, type OperatorCaFiles } from "./operator-ca";

const DAY_MS = 86_400_000;

/** How a rotation goes. */
export interface RotateOptions {
  /** Validity of the new certificate in days (default 90). */
  days?: number;
  /**
   * Leave the port alone when it already presents a certificate that verifies against the
   * operator's CA and is valid for more than this many days (default: `days / 3`).
   */
  renewWithinDays?: number;
  /** Find out what would happen (the port's CertificateService, its current certificate) and change nothing. */
  dryRun?: boolean;
  /** How long the port may take to present the new certificate on new connections (default 30 000 ms). */
  confirmTimeoutMs?: number;
}

/** What a rotation did to one port. */
export type RotationOutcome =
  | { action: "rotated"; fingerprint: string; validTo: string }
  | { action: "skipped"; fingerprint: string; validTo: string; daysLeft: number }
  | { action: "would-rotate"; why: string };

/** A port's certificate could not be rotated; the message names the port and why. */
export class CertificateRotationError extends Error {
  constructor(
    readonly endpoint: string,
    why: string,
    options?: ErrorOptions,
  ) {
    super(`${endpoint}: ${why}`, options);
    this.name = "CertificateRotationError";
  }
}

/** Where a port's CertificateService acts and which certificate is the HTTPS one. */
interface CertificateTargets {
  generateCsr: string;
  replace: string;
  /** The HTTPS certificate to replace, and the collection it is in. */
  certificate: string;
  collection: string;
}

/**
 * Rotates the HTTPS certificate of the port `client` talks to (the client must trust the
 * certificate the port presents now, e.g. a bundle of the old CA and the operator's).
 * Throws `OperatorCaError` for an unusable CA before anything is sent, and
 * `CertificateRotationError` naming the port for everything else.
 */
export async function rotatePortCertificate(client: RedfishClient, caFiles: OperatorCaFiles, opts: RotateOptions = {}): Promise<RotationOutcome> {
  const ca = await loadOperatorCa(caFiles);
  const days = opts.days ?? 90;
  const address = addressOf(client.endpoint);
  const before = await presentedCertificate(client.endpoint, ca.certPem);
  if (before.verified) {
    const daysLeft = (Date.parse(before.cert.validTo) - Date.now()) / DAY_MS;
    if (daysLeft > (opts.renewWithinDays ?? days / 3)) return { action: "skipped", fingerprint: before.cert.fingerprint256, validTo: before.cert.validTo, daysLeft: Math.floor(daysLeft) };
  }
  const targets = await certificateTargets(client);
  if (opts.dryRun) return { action: "would-rotate", why: before.verified ? `its certificate from ${ca.subject} ends ${before.cert.validTo}` : `it presents a certificate not from ${ca.subject}` };
  const pem = await signedCertificate(client, ca, targets, address, days);
  await act(client, "ReplaceCertificate", targets.replace, { CertificateString: pem, CertificateType: "PEM", CertificateUri: { "@odata.id": targets.certificate } }, "the port refused the certificate signed for it");
  const issued = new X509Certificate(pem);
  await confirmPresented(client, ca, issued, targets.certificate, opts.confirmTimeoutMs ?? 30_000);
  return { action: "rotated", fingerprint: issued.fingerprint256, validTo: issued.validTo };
}

/** GenerateCSR, the request checked, and the certificate the CA issues for it. */
async function signedCertificate(client: RedfishClient, ca: OperatorCa, targets: CertificateTargets, address: string, days: number): Promise<string> {
  const answer = await act(client, "GenerateCSR", targets.generateCsr, { CommonName: address, AlternativeNames: [address], CertificateCollection: { "@odata.id": targets.collection } }, "the port could not make a signing request");
  const csr = asRecord(answer).CSRString;
  if (typeof csr !== "string") throw new CertificateRotationError(client.endpoint, "GenerateCSR answered without a CSRString");
  const checked = await checkSigningRequest(csr, address);
  if (typeof checked === "string") throw new CertificateRotationError(client.endpoint, `${checked}; nothing was changed on the port`);
  return issueServerCertificate(ca, checked, address, days);
}

/** One CertificateService action; its answer's body. Redfish errors become rotation errors naming the step. */
async function act(client: RedfishClient, action: string, target: string, body: object, summary: string): Promise<unknown> {
  try {
    return (await client.post(target, body)).body;
  } catch (error) {
    if (!(error instanceof RedfishError)) throw error;
    throw new CertificateRotationError(client.endpoint, `${summary} (${action}): ${error.serviceMessage ?? error.message}`, { cause: error });
  }
}

/** The port's GenerateCSR and ReplaceCertificate targets and its HTTPS certificate, from the service root down. */
async function certificateTargets(client: RedfishClient): Promise<CertificateTargets> {
  const service = linkOf((await client.serviceRoot()).CertificateService);
  if (!service) throw new CertificateRotationError(client.endpoint, "the port has no CertificateService: its certificate cannot be replaced over Redfish");
  const body = asRecord((await client.get(service)).body);
  const actions = asRecord(body.Actions);
  const target = (name: string): string | undefined => {
    const t = asRecord(actions[`#CertificateService.${name}`]).target;
    return typeof t === "string" ? t : undefined;
  };
  const generateCsr = target("GenerateCSR");
  if (!generateCsr) throw new CertificateRotationError(client.endpoint, "the port's CertificateService has no GenerateCSR: it cannot make a signing request for its own key, so it cannot get a certificate from the operator's CA this way");
  const replace = target("ReplaceCertificate");
  if (!replace) throw new CertificateRotationError(client.endpoint, "the port's CertificateService has no ReplaceCertificate: it cannot take a new certificate");
  const certificate = await httpsCertificate(client, linkOf(body.CertificateLocations));
  return { generateCsr, replace, certificate, collection: certificate.replace(/\/[^/]+$/, "") };
}

/** The HTTPS certificate among the port's CertificateLocations (`…/NetworkProtocol/HTTPS/Certificates/<id>`). */
async function httpsCertificate(client: RedfishClient, locationsUri: string | undefined): Promise<string> {
  const links = locationsUri ? asRecord(asRecord((await client.get(locationsUri)).body).Links).Certificates : undefined;
  const found = (Array.isArray(links) ? links : []).map(linkOf).find((uri) => uri !== undefined && /\/NetworkProtocol\/HTTPS\/Certificates\/[^/]+$/.test(uri));
  if (!found) throw new CertificateRotationError(client.endpoint, "the port's CertificateLocations list no HTTPS certificate (…/NetworkProtocol/HTTPS/Certificates/<id>)");
  return found;
}

/**
 * Waits until a new connection trusting only the operator's CA gets `issued` from the port;
 * if it never does, says what the port still presents (read through `client`, which still
 * trusts the old certificate).
 */
async function confirmPresented(client: RedfishClient, ca: OperatorCa, issued: X509Certificate, certificateUri: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: Presented;
  for (;;) {
    last = await presentedCertificate(client.endpoint, ca.certPem);
    if (last.verified && last.cert.fingerprint256 === issued.fingerprint256) return;
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const seen = last.verified ? `a certificate from ${ca.subject} with fingerprint ${last.cert.fingerprint256}` : `a certificate that does not verify against ${ca.subject} (${last.reason})`;
  let reported = "";
  try {
    const body = asRecord((await client.get(certificateUri)).body);
    reported = `; its ${certificateUri} says issuer ${JSON.stringify(body.Issuer)}, fingerprint ${String(body.Fingerprint)}`;
  } catch {
    // What the port reports is only a detail of the message.
  }
  throw new CertificateRotationError(client.endpoint, `the port kept the old certificate: ReplaceCertificate was accepted, but after ${Math.round(timeoutMs / 1000)} s a new connection still gets ${seen}${reported}`);
}

/** What a new TLS connection to a port gets: a certificate that verifies against the CA given, or why not. */
export type Presented = { verified: true; cert: X509Certificate } | { verified: false; reason: string };

/**
 * Opens a new TLS connection to `endpoint` (`https://host:port`) trusting only `caPem`, with
 * the host name checked, and answers the certificate the port presented if it verified. No
 * request is sent. A refused handshake is an answer (`verified: false`), not an error.
 */
export function presentedCertificate(endpoint: string, caPem: string, timeoutMs = 10_000): Promise<Presented> {
  const url = new URL(endpoint);
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return new Promise((resolve) => {
    const socket = tls.connect({ host, port: Number(url.port || 443), ca: caPem, servername: isIP(host) ? undefined : host, timeout: timeoutMs });
    const done = (answer: Presented): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.once("secureConnect", () => {
      const cert = socket.getPeerX509Certificate();
      done(cert ? { verified: true, cert } : { verified: false, reason: "the port presented no certificate" });
    });
    socket.once("timeout", () => done({ verified: false, reason: `no TLS handshake within ${timeoutMs / 1000} s` }));
    socket.once("error", (error: NodeJS.ErrnoException) => done({ verified: false, reason: error.code ?? error.message }));
  });
}

/** The port's address (what its certificate must name) from its base URL. */
export function addressOf(endpoint: string): string {
  return new URL(endpoint).hostname.replace(/^\[|\]$/g, "");
}
