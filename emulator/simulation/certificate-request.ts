/**
 * CertificateService.GenerateCSR on a management port: the request's parameters checked as
 * DMTF's CertificateService schema defines them, and a PKCS#10 request signed with the
 * port's own key. DMTF says a service "should" make a new key pair for the request; the
 * emulated port certifies the key it already presents instead, so the key never changes,
 * never leaves the emulator and is never written to a DPU's document, and
 * ReplaceCertificate's rule (a certificate for the port's current key) covers the answer.
 */
import { webcrypto } from "node:crypto";
import { isIP } from "node:net";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { ServiceError } from "../service-error";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export const GENERATE_CSR = "CertificateService.GenerateCSR";

/** The port's key: ECDSA on NIST P-256 (TCG algorithm registry names, as the schema asks). */
const KEY = { algorithm: "TPM_ALG_ECDSA", curve: "TPM_ECC_NIST_P256", bits: 256 } as const;
const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** Subject parameters and the X.500 attribute each becomes. */
const SUBJECT_FIELDS = { CommonName: "CN", Organization: "O", OrganizationalUnit: "OU", City: "L", State: "ST", Country: "C", Email: "E" } as const;
/** Schema parameters this port does not put in a request. */
const NOT_SUPPORTED = ["Surname", "GivenName", "Initials", "ChallengePassword", "UnstructuredName", "ContactPerson"];
const KEY_PARAMETERS = ["KeyPairAlgorithm", "KeyCurveId", "KeyBitLength", "KeyUsage"];

/** A GenerateCSR request, checked. */
export interface CsrRequest {
  /** X.500 subject attributes in order (CN first). */
  subject: Array<[attribute: string, value: string]>;
  /** Extra names for the SAN (IP literals become IP entries, the rest DNS names). */
  alternativeNames: string[];
}

/**
 * Checks a GenerateCSR body: `CommonName` and `CertificateCollection` (which must be
 * `collectionUri`, the only collection a client may install into) are required; key
 * parameters, when given, must describe the port's key. 400 with the Base message otherwise.
 */
export function parseCsrRequest(body: Record<string, unknown>, collectionUri: string): CsrRequest {
  for (const key of Object.keys(body)) {
    if (key.startsWith("@") || key in SUBJECT_FIELDS || key === "AlternativeNames" || key === "CertificateCollection" || KEY_PARAMETERS.includes(key)) continue;
    if (NOT_SUPPORTED.includes(key)) throw new ServiceError(400, "ActionParameterNotSupported", [key, GENERATE_CSR], `this port does not put ${key} in a signing request`);
    throw new ServiceError(400, "ActionParameterUnknown", [GENERATE_CSR, key], `${GENERATE_CSR} has no parameter ${key}`);
  }
  for (const name of ["CommonName", "CertificateCollection"]) {
    if (body[name] === undefined) throw new ServiceError(400, "ActionParameterMissing", [GENERATE_CSR, name], `${GENERATE_CSR} needs ${name}`);
  }
  const collection = (body.CertificateCollection as Record<string, unknown> | null)?.["@odata.id"];
  if (typeof collection !== "string" || collection.replace(/\/+$/, "") !== collectionUri) {
    throw notInList(JSON.stringify(body.CertificateCollection), "CertificateCollection", `CertificateCollection must be {"@odata.id": "${collectionUri}"}, the port's HTTPS certificates`);
  }
  checkKeyParameters(body);
  const subject: CsrRequest["subject"] = [];
  for (const [name, attribute] of Object.entries(SUBJECT_FIELDS)) {
    const value = body[name];
    if (value === undefined) continue;
    if (typeof value !== "string" || value.trim() === "" || value.length > 64) throw formatError(value, name, `${name} must be a non-empty string of at most 64 characters`);
    if (name === "Country" && !/^[A-Z]{2}$/.test(value)) throw formatError(value, name, "Country must be a two-letter ISO 3166 code");
    subject.push([attribute, value]);
  }
  const names = body.AlternativeNames ?? [];
  if (!Array.isArray(names) || names.some((n) => typeof n !== "string" || !/^[A-Za-z0-9.:-]{1,253}$/.test(n))) {
    throw formatError(names, "AlternativeNames", "AlternativeNames must be an array of host names or IP addresses");
  }
  return { subject, alternativeNames: names as string[] };
}

/** Key parameters may only restate the port's key: it certifies the key it has. */
function checkKeyParameters(body: Record<string, unknown>): void {
  const expected: Record<string, unknown> = { KeyPairAlgorithm: KEY.algorithm, KeyCurveId: KEY.curve, KeyBitLength: KEY.bits };
  for (const [name, value] of Object.entries(expected)) {
    if (body[name] !== undefined && body[name] !== value) {
      throw notInList(String(body[name]), name, `the port's key is ${KEY.algorithm} on ${KEY.curve} (${KEY.bits} bits); it signs requests for that key only`);
    }
  }
  const usage = body.KeyUsage;
  if (usage !== undefined && (!Array.isArray(usage) || usage.some((u) => !["ServerAuthentication", "DigitalSignature", "KeyAgreement"].includes(u as string)))) {
    throw notInList(JSON.stringify(usage), "KeyUsage", "KeyUsage may hold ServerAuthentication, DigitalSignature and KeyAgreement: the port's key serves HTTPS only");
  }
}

/**
 * The PEM PKCS#10 request for the key of `certPem` (whose private half is `keyPem`), with
 * the request's subject and a SAN holding `address` (the port's management address) and
 * the request's alternative names; it asks for serverAuth.
 */
export async function createCsr(keyPem: string, certPem: string, address: string, request: CsrRequest): Promise<string> {
  const privateKey = await webcrypto.subtle.importKey("pkcs8", x509.PemConverter.decodeFirst(keyPem), ALG, false, ["sign"]);
  const publicKey = await new x509.X509Certificate(certPem).publicKey.export(ALG, ["verify"]);
  const names = [...new Set([address, ...request.alternativeNames])].map((n) => (isIP(n) ? { type: "ip" as const, value: n } : { type: "dns" as const, value: n }));
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: request.subject.map(([attribute, value]) => ({ [attribute]: [value] })),
    keys: { privateKey, publicKey },
    signingAlgorithm: ALG,
    extensions: [
      new x509.SubjectAlternativeNameExtension(names),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    ],
  });
  return csr.toString("pem") + "\n";
}

function notInList(value: string, name: string, why: string): ServiceError {
  return new ServiceError(400, "ActionParameterValueNotInList", [value, name, GENERATE_CSR], why);
}

function formatError(value: unknown, name: string, why: string): ServiceError {
  return new ServiceError(400, "ActionParameterValueFormatError", [JSON.stringify(value), name, GENERATE_CSR], why);
}
