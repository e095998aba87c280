/**
 * The operator's CA on this side of the wire: its certificate and key read and checked
 * against each other, a port's signing request (PKCS#10) checked, and a server certificate
 * issued from it. The names in the certificate come from the port's address, never from the
 * request: a port can only ask for its own key to be certified, not for what it is called.
 */
import { createPrivateKey, createPublicKey, randomBytes, webcrypto, X509Certificate as NodeCertificate, type KeyObject } from "node:crypto";
import { isIP } from "node:net";
import type * as X509 from "@peculiar/x509";

let loaded: typeof X509 | undefined;
/**
 * @peculiar/x509, loaded on first use: only a certificate rotation needs it, and loading it
 * (with tsyringe and the Reflect metadata API it resolves its algorithms through) cost every
 * provider process about 100 ms of CPU and its memory for nothing.
 */
function loadX509(): typeof X509 {
  if (!loaded) {
    require("reflect-metadata");
    loaded = require("@peculiar/x509") as typeof X509;
    loaded.cryptoProvider.set(webcrypto as unknown as Parameters<typeof X509.cryptoProvider.set>[0]);
  }
  return loaded;
}

const DAY_MS = 86_400_000;
/** Back-dating of a new certificate, for ports whose clock runs a little behind. */
const BACKDATE_MS = 5 * 60_000;

/** The operator's CA as its files hold it (PEM). */
export interface OperatorCaFiles {
  certPem: string;
  keyPem: string;
}

/** How a CA key signs, in Web Crypto's terms (the import parameters and the hash together, as @peculiar/x509 takes them). */
type SigningAlgorithm = { name: "ECDSA"; namedCurve: "P-256" | "P-384"; hash: "SHA-256" | "SHA-384" } | { name: "RSASSA-PKCS1-v1_5"; hash: "SHA-256" };

/** The operator's CA, read and checked: ready to sign. */
export interface OperatorCa {
  /** The CA certificate, PEM (what clients are to trust). */
  certPem: string;
  cert: X509.X509Certificate;
  /** Its private key, for signing only. */
  signingKey: webcrypto.CryptoKey;
  signingAlgorithm: SigningAlgorithm;
  /** `CN=…` of the CA, for messages. */
  subject: string;
}

/** The CA's certificate or key is unusable; nothing was sent to any port. */
export class OperatorCaError extends Error {}

/**
 * Reads the CA certificate and key and checks that they belong together, that the
 * certificate is a CA (basicConstraints cA) and valid now. Throws `OperatorCaError`.
 */
export async function loadOperatorCa(files: OperatorCaFiles): Promise<OperatorCa> {
  const x509 = loadX509();
  let cert: NodeCertificate;
  try {
    cert = new NodeCertificate(files.certPem);
  } catch (error) {
    throw new OperatorCaError(`the CA certificate is not a readable PEM certificate: ${(error as Error).message}`);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(files.keyPem);
  } catch (error) {
    throw new OperatorCaError(`the CA key is not a readable unencrypted PEM private key: ${(error as Error).message}`);
  }
  const spki = (k: KeyObject): Buffer => k.export({ type: "spki", format: "der" });
  if (!spki(createPublicKey(key)).equals(spki(cert.publicKey))) {
    throw new OperatorCaError(`the CA key does not match the CA certificate (${oneLine(cert.subject)}): it is the key of another certificate`);
  }
  if (!cert.ca) throw new OperatorCaError(`${oneLine(cert.subject)} is not a CA certificate (no basicConstraints cA): it cannot issue certificates`);
  const now = Date.now();
  if (Date.parse(cert.validFrom) > now || Date.parse(cert.validTo) < now) {
    throw new OperatorCaError(`the CA certificate ${oneLine(cert.subject)} is valid from ${cert.validFrom} to ${cert.validTo}, not now`);
  }
  const signingAlgorithm = algorithmOf(key);
  const signingKey = await webcrypto.subtle.importKey("pkcs8", key.export({ type: "pkcs8", format: "der" }), signingAlgorithm, false, ["sign"]);
  return { certPem: files.certPem, cert: new x509.X509Certificate(files.certPem), signingKey, signingAlgorithm, subject: oneLine(cert.subject) };
}

/** The Web Crypto algorithm a CA key signs with (ECDSA P-256/P-384 or RSA PKCS#1 v1.5). */
function algorithmOf(key: KeyObject): OperatorCa["signingAlgorithm"] {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === "ec" && details.namedCurve === "prime256v1") return { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  if (key.asymmetricKeyType === "ec" && details.namedCurve === "secp384r1") return { name: "ECDSA", namedCurve: "P-384", hash: "SHA-384" };
  if (key.asymmetricKeyType === "rsa" && (details.modulusLength ?? 0) >= 2048) return { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  throw new OperatorCaError(`the CA key is ${key.asymmetricKeyType} ${details.namedCurve ?? `${details.modulusLength ?? "?"} bits`}; ECDSA P-256/P-384 or RSA of 2048 bits or more can sign here`);
}

/** A signing request that passed `checkSigningRequest`. */
export interface CheckedRequest {
  csr: X509.Pkcs10CertificateRequest;
  /** What the key is, e.g. `ECDSA P-256`. */
  keyType: string;
}

/**
 * Checks a port's signing request: a readable PKCS#10 whose signature verifies (the port
 * holds the key), a key strong enough for a server certificate (ECDSA P-256/P-384, RSA of
 * 2048 bits or more), and a subject CN or SAN that names `address`. Returns why not as a
 * string, so the caller can say which port.
 */
export async function checkSigningRequest(csrPem: string, address: string): Promise<CheckedRequest | string> {
  const x509 = loadX509();
  let csr: X509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(csrPem);
  } catch (error) {
    return `its CSRString is not a readable PEM PKCS#10 request: ${(error as Error).message}`;
  }
  if (!(await csr.verify())) return "its signing request's signature does not verify with the key it carries";
  const key = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: "der", type: "spki" });
  const details = key.asymmetricKeyDetails ?? {};
  const keyType = key.asymmetricKeyType === "ec" ? `ECDSA ${details.namedCurve}` : `${String(key.asymmetricKeyType).toUpperCase()} ${details.modulusLength ?? "?"} bits`;
  const strong = (key.asymmetricKeyType === "ec" && ["prime256v1", "secp384r1"].includes(String(details.namedCurve))) || (key.asymmetricKeyType === "rsa" && (details.modulusLength ?? 0) >= 2048);
  if (!strong) return `its signing request is for a ${keyType} key; a server certificate here needs ECDSA P-256/P-384 or RSA of 2048 bits or more`;
  const names = requestNames(csr);
  if (!names.includes(address)) return `its signing request names ${names.join(", ") || "nothing"}, not the port's address ${address}`;
  return { csr, keyType };
}

/** The subject CNs and SAN entries (IP and DNS) of a request. */
function requestNames(csr: X509.Pkcs10CertificateRequest): string[] {
  const x509 = loadX509();
  const cns = csr.subjectName.getField("CN");
  const raw = csr.extensions.find((e) => e.type === SAN_OID)?.rawData;
  const san = raw ? new x509.SubjectAlternativeNameExtension(raw).names.toJSON().filter((n) => n.type === "ip" || n.type === "dns").map((n) => n.value) : [];
  return [...new Set([...cns, ...san])];
}

const SAN_OID = "2.5.29.17";

/**
 * A server certificate from the CA for the request's key: the request's subject, a SAN of
 * `address` only (IP or DNS), serverAuth, valid from a few minutes ago for `days` days
 * (within the CA's own validity). PEM, followed by the CA certificate when the CA is not
 * self-issued (an intermediate: clients trusting the root need it).
 */
export async function issueServerCertificate(ca: OperatorCa, request: CheckedRequest, address: string, days: number): Promise<string> {
  const x509 = loadX509();
  const now = Date.now();
  const notAfter = new Date(now + days * DAY_MS);
  if (notAfter > ca.cert.notAfter) {
    throw new OperatorCaError(`the CA certificate ${ca.subject} expires ${ca.cert.notAfter.toISOString()}, before the ${days} days asked for end (${notAfter.toISOString()}): ask for fewer days or renew the CA`);
  }
  const serial = randomBytes(16);
  serial[0] &= 0x7f; // a positive INTEGER
  // keyEncipherment only for an RSA key (RSA key exchange); an EC key signs its handshakes.
  const rsa = request.keyType.startsWith("RSA");
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString("hex"),
    subject: request.csr.subjectName,
    issuer: ca.cert.subjectName,
    notBefore: new Date(now - BACKDATE_MS),
    notAfter,
    publicKey: request.csr.publicKey,
    signingKey: ca.signingKey,
    signingAlgorithm: ca.signingAlgorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | (rsa ? x509.KeyUsageFlags.keyEncipherment : 0), true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: isIP(address) ? "ip" : "dns", value: address }]),
      await x509.SubjectKeyIdentifierExtension.create(request.csr.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert.publicKey),
    ],
  });
  const selfIssued = ca.cert.subject === ca.cert.issuer;
  return leaf.toString("pem") + "\n" + (selfIssued ? "" : ca.certPem.trim() + "\n");
}

/** An X.509 name on one line. */
export function oneLine(name: string): string {
  return name.replace(/\n/g, ", ");
}
