/**
 * An operator's own CA for the certificate-rotation tests: a self-signed ECDSA P-256 CA
 * certificate and its key as PEM, as an operator's files would hold them.
 */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** A CA certificate and its private key (PKCS#8), PEM. */
export interface CaFiles {
  certPem: string;
  keyPem: string;
}

/** A fresh CA named `CN=<commonName>, O=Example Ops`, valid from an hour ago for `days` days. */
export async function makeOperatorCa(commonName = "Operator CA", days = 3650): Promise<CaFiles> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString("hex").replace(/^[89a-f]/, "1"),
    name: `CN=${commonName}, O=Example Ops`,
    notBefore: new Date(now - 3_600_000),
    notAfter: new Date(now + days * 86_400_000),
    keys,
    signingAlgorithm: ALG,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
  });
  return { certPem: cert.toString("pem") + "\n", keyPem: x509.PemConverter.encode(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey), "PRIVATE KEY") + "\n" };
}

/** A PEM PKCS#10 request for `keyPem` (ECDSA P-256, PKCS#8) naming `name` as CN and IP SAN. */
export async function signingRequestFor(keyPem: string, publicKeyFromCertPem: string, name: string): Promise<string> {
  const privateKey = await webcrypto.subtle.importKey("pkcs8", x509.PemConverter.decodeFirst(keyPem), ALG, false, ["sign"]);
  const publicKey = await new x509.X509Certificate(publicKeyFromCertPem).publicKey.export(ALG, ["verify"]);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${name}`,
    keys: { privateKey, publicKey },
    signingAlgorithm: ALG,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: "ip", value: name }])],
  });
  return csr.toString("pem");
}
