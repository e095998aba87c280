/**
 * The emulator's PKI: a CA generated once per state dir (key readable by the owner only)
 * and one leaf certificate per management address (IP SAN), cached in the state dir so a
 * restart of a 1,000-DPU fleet signs nothing.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { webcrypto } from "node:crypto";
// @peculiar/x509 resolves its algorithms through tsyringe, which needs the Reflect metadata API.
import "reflect-metadata";
import * as x509 from "@peculiar/x509";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
const crypto = webcrypto;
x509.cryptoProvider.set(crypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const TEN_YEARS_MS = 10 * 365 * 24 * 3600 * 1000;

/** The CA and the per-address leaf certificates, as PEM. */
export interface FleetPki {
  /** CA certificate. */
  caPem: string;
  /** Absolute path of `ca.pem`. */
  caFile: string;
  /** The shared leaf private key (PKCS#8 PEM). */
  leafKeyPem: string;
  /** Leaf certificate (PEM, followed by nothing: clients trust the CA directly) per IPv4 address. */
  leafCertPem: Map<string, string>;
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

function derOf(pemText: string): ArrayBuffer {
  const b64 = pemText.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  const buf = Buffer.from(b64, "base64");
  return buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
}

function writePrivate(file: string, text: string): void {
  fs.writeFileSync(file, text, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

async function importPrivate(pemText: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("pkcs8", derOf(pemText), ALG, true, ["sign"]);
}

async function ensureCa(dir: string): Promise<{ cert: x509.X509Certificate; key: CryptoKey; pem: string }> {
  const certFile = path.join(dir, "ca.pem");
  const keyFile = path.join(dir, "ca-key.pem");
  if (fs.existsSync(certFile) && fs.existsSync(keyFile)) {
    const caPem = fs.readFileSync(certFile, "utf8");
    return { cert: new x509.X509Certificate(caPem), key: await importPrivate(fs.readFileSync(keyFile, "utf8")), pem: caPem };
  }
  const keys = (await crypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString("hex"),
    name: "CN=smartfleet emulator CA",
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + TEN_YEARS_MS),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  writePrivate(keyFile, pem("PRIVATE KEY", await crypto.subtle.exportKey("pkcs8", keys.privateKey)));
  const caPem = cert.toString("pem") + "\n";
  fs.writeFileSync(certFile, caPem);
  return { cert, key: keys.privateKey, pem: caPem };
}

async function ensureLeafKey(dir: string): Promise<{ publicKey: CryptoKey; pem: string }> {
  const file = path.join(dir, "leaf-key.pem");
  if (fs.existsSync(file)) {
    const text = fs.readFileSync(file, "utf8");
    const priv = await importPrivate(text);
    const jwk = await crypto.subtle.exportKey("jwk", priv);
    delete jwk.d;
    jwk.key_ops = ["verify"];
    const publicKey = await crypto.subtle.importKey("jwk", jwk, ALG, true, ["verify"]);
    return { publicKey, pem: text };
  }
  const keys = (await crypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const text = pem("PRIVATE KEY", await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  writePrivate(file, text);
  return { publicKey: keys.publicKey, pem: text };
}

/**
 * Loads or creates the CA and a leaf certificate for every address in `addresses`.
 * Leaf certificates signed by another CA (a replaced `ca.pem`) are re-issued.
 */
export async function ensurePki(stateDir: string, addresses: string[]): Promise<FleetPki> {
  const dir = path.resolve(stateDir);
  fs.mkdirSync(dir, { recursive: true });
  const ca = await ensureCa(dir);
  const leafKey = await ensureLeafKey(dir);
  const cacheFile = path.join(dir, "leaf-certs.json");
  const caThumb = Buffer.from(await ca.cert.getThumbprint("SHA-256")).toString("hex");
  let cache: { ca: string; certs: Record<string, string> } = { ca: caThumb, certs: {} };
  if (fs.existsSync(cacheFile)) {
    const loaded = JSON.parse(fs.readFileSync(cacheFile, "utf8")) as typeof cache;
    if (loaded.ca === caThumb) cache = loaded;
  }
  let issued = 0;
  const now = Date.now();
  for (const address of new Set(addresses)) {
    if (cache.certs[address]) continue;
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString("hex"),
      subject: `CN=${address}`,
      issuer: ca.cert.subject,
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(now + TEN_YEARS_MS),
      publicKey: leafKey.publicKey,
      signingKey: ca.key,
      signingAlgorithm: ALG,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: "ip", value: address }]),
      ],
    });
    cache.certs[address] = cert.toString("pem") + "\n";
    issued++;
  }
  if (issued) fs.writeFileSync(cacheFile, JSON.stringify(cache));
  return {
    caPem: ca.pem,
    caFile: path.join(dir, "ca.pem"),
    leafKeyPem: leafKey.pem,
    leafCertPem: new Map(Object.entries(cache.certs)),
  };
}
