/**
 * The certificate each management port presents on HTTPS, a signing request for its key
 * (CertificateService.GenerateCSR) and its replacement (CertificateService.ReplaceCertificate). A port starts with the certificate the emulator's
 * CA issued for its address (`certs.ts`); a client may replace it with one for the same key
 * signed by another CA, the operator's: the port's private key never leaves the emulator and
 * is never taken from a client, so no secret reaches a request or the state database. The
 * replacement is kept in the DPU's document (a certificate is public) and survives restarts;
 * listeners (the port's listener) switch to it for new connections at once.
 */
import { X509Certificate } from "node:crypto";
import { ServiceError } from "../service-error";
import { createCsr, parseCsrRequest } from "./certificate-request";
import type { SimulationCore } from "./core";

/** Longest certificate text accepted (a chain of a few certificates). */
export const MAX_CERTIFICATE_CHARS = 16_384;

/** The HTTPS certificates of every port. */
export class HttpsCertificates {
  private readonly issued = new Map<string, string>();
  /** Each port's private key (PKCS#8 PEM), in memory only: never in the DPU's document. */
  private readonly keys = new Map<string, string>();
  private readonly listeners: Array<(serial: string, pem: string) => void> = [];

  constructor(private readonly core: SimulationCore) {}

  /** Records the certificate the emulator's CA issued for a port (what it presents until replaced) and the port's key. */
  setIssued(serial: string, pem: string, keyPem: string): void {
    this.issued.set(serial, pem);
    this.keys.set(serial, keyPem);
  }

  /**
   * GenerateCSR: a PEM PKCS#10 request for the port's current key with the subject and
   * names `body` asks for and the port's management address in its SAN
   * (`certificate-request.ts`); 400 with the Base message for a bad request.
   */
  async signingRequest(serial: string, body: Record<string, unknown>, collectionUri: string): Promise<string> {
    const request = parseCsrRequest(body, collectionUri);
    const keyPem = this.keys.get(serial);
    if (!keyPem) throw new ServiceError(503, "ServiceTemporarilyUnavailable", ["1"], "the port's key is not loaded yet");
    return createCsr(keyPem, this.current(serial), this.core.placement(serial).nic.management.address, request);
  }

  /** The certificate (PEM, leaf first) a port presents now. */
  current(serial: string): string {
    const replaced = this.core.docOf(serial).bmc?.httpsCertificate;
    const pem = replaced ?? this.issued.get(serial);
    if (!pem) throw new ServiceError(503, "ServiceTemporarilyUnavailable", ["1"], "the port's certificate is not loaded yet");
    return pem;
  }

  /**
   * Replaces a port's certificate with `pem`: a PEM certificate (optionally followed by its
   * chain) for the port's current key, valid now, not a CA; 400 with the Base message
   * otherwise. A PEM carrying a private key is refused: the port keeps its own.
   */
  replace(serial: string, pem: unknown): X509Certificate {
    if (typeof pem !== "string" || pem.length === 0) throw actionError("ActionParameterValueTypeError", pem, "CertificateString must be a non-empty PEM string");
    if (pem.length > MAX_CERTIFICATE_CHARS) throw actionError("ActionParameterValueFormatError", "<too long>", `CertificateString is limited to ${MAX_CERTIFICATE_CHARS} characters`);
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
      throw actionError("ActionParameterValueError", "<private key>", "send the certificate only: the port keeps its own private key; have your CA certify the key of the port's current certificate");
    }
    const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
    if (!blocks) throw actionError("ActionParameterValueFormatError", "<not PEM>", "CertificateString must hold a PEM certificate");
    let leaf: X509Certificate;
    try {
      leaf = new X509Certificate(blocks[0]);
      for (const b of blocks.slice(1)) new X509Certificate(b);
    } catch (cause) {
      throw actionError("ActionParameterValueFormatError", "<unreadable>", `CertificateString is not a readable X.509 certificate: ${(cause as Error).message}`);
    }
    // Wall time, not the simulated clock: the clients that will verify it judge it by theirs.
    const now = Date.now();
    if (Date.parse(leaf.validFrom) > now || Date.parse(leaf.validTo) < now) {
      throw actionError("ActionParameterValueError", leaf.serialNumber, `the certificate is valid from ${leaf.validFrom} to ${leaf.validTo}, not now`);
    }
    if (leaf.ca) throw actionError("ActionParameterValueError", leaf.serialNumber, "a CA certificate cannot be the port's server certificate");
    const current = new X509Certificate(this.current(serial));
    if (!samePublicKey(leaf, current)) {
      throw actionError("ActionParameterValueError", leaf.serialNumber, "the certificate is for another key; certify the key of the port's current certificate");
    }
    const text = blocks.join("\n") + "\n";
    this.core.transact((txn) => {
      const d = txn.dpu(serial);
      d.bmc = { ...d.bmc, httpsCertificate: text };
      this.core.eventLog.afterCommit(txn, serial, {
        severity: "OK",
        messageId: "ResourceEvent.1.4.3.ResourceChanged",
        args: [],
        message: `HTTPS certificate replaced: subject ${leaf.subject.replace(/\n/g, ", ")}, issuer ${leaf.issuer.replace(/\n/g, ", ")}, valid until ${leaf.validTo}`,
      });
      txn.after.push(() => {
        for (const l of this.listeners) l(serial, text);
      });
    });
    return leaf;
  }

  /** Calls `fn` with a port's new certificate each time one is replaced. */
  onReplace(fn: (serial: string, pem: string) => void): void {
    this.listeners.push(fn);
  }
}

function samePublicKey(a: X509Certificate, b: X509Certificate): boolean {
  const der = (c: X509Certificate): Buffer => c.publicKey.export({ type: "spki", format: "der" });
  return der(a).equals(der(b));
}

function actionError(key: string, value: unknown, why: string): ServiceError {
  const action = "CertificateService.ReplaceCertificate";
  const shown = typeof value === "string" ? value : JSON.stringify(value);
  const args = key === "ActionParameterValueError" ? ["CertificateString", action] : [shown, "CertificateString", action];
  return new ServiceError(400, key, args, why);
}
