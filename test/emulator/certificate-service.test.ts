/**
 * CertificateService: the port's HTTPS certificate is readable, and ReplaceCertificate puts one
 * from another CA (the operator's) for the port's key in its place: new connections verify
 * against that CA, no longer against the emulator's; bad replacements answer the Base messages.
 */
import { webcrypto, X509Certificate } from "node:crypto";
import "reflect-metadata";
import * as x509 from "@peculiar/x509";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { request, startTestFleet, testInventory, type TestFleet } from "./helpers";

type Body = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const V1 = "/redfish/v1";
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** An operator CA, and a certificate it issues for `publicKeyDer` (SPKI) with an IP SAN. */
async function operatorCa(): Promise<{ pem: string; issue(publicKeyDer: Buffer, ip: string, days?: number): Promise<string> }> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const now = Date.now();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "0a01",
    name: "CN=Operator CA, O=Example Ops",
    notBefore: new Date(now - 3_600_000),
    notAfter: new Date(now + 365 * 86_400_000),
    keys,
    signingAlgorithm: ALG,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign, true)],
  });
  return {
    pem: ca.toString("pem"),
    async issue(publicKeyDer, ip, days = 90) {
      const spki = publicKeyDer.buffer.slice(publicKeyDer.byteOffset, publicKeyDer.byteOffset + publicKeyDer.byteLength) as ArrayBuffer;
      const publicKey = await webcrypto.subtle.importKey("spki", spki, ALG, true, ["verify"]);
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: "0b02",
        subject: `CN=${ip}, O=Example Ops`,
        issuer: ca.subject,
        notBefore: new Date(now - 3_600_000),
        notAfter: new Date(now + days * 86_400_000),
        publicKey,
        signingKey: keys.privateKey,
        signingAlgorithm: ALG,
        extensions: [new x509.BasicConstraintsExtension(false, undefined, true), new x509.SubjectAlternativeNameExtension([{ type: "ip", value: ip }])],
      });
      return leaf.toString("pem");
    },
  };
}

function messageId(body: Body): string {
  return String(body?.error?.["@Message.ExtendedInfo"]?.[0]?.MessageId ?? "");
}

describe("CertificateService", () => {
  let f: TestFleet;
  const inventory = testInventory();
  const certUri = `${V1}/Managers/IMC/NetworkProtocol/HTTPS/Certificates/1`;
  const action = `${V1}/CertificateService/Actions/CertificateService.ReplaceCertificate`;
  beforeAll(async () => {
    f = await startTestFleet({ inventory });
    await f.claim("IPU1");
  });
  afterAll(() => f.emu.stop());

  it("shows the port's HTTPS certificate where CertificateLocations and NetworkProtocol point", async () => {
    const service = (await f.call("IPU1", "GET", `${V1}/CertificateService`)).body;
    expect(service.Actions["#CertificateService.ReplaceCertificate"]["CertificateType@Redfish.AllowableValues"]).toEqual(["PEM"]);
    const locations = (await f.call("IPU1", "GET", service.CertificateLocations["@odata.id"])).body;
    expect(locations.Links.Certificates).toEqual([{ "@odata.id": certUri }]);
    expect((await f.call("IPU1", "GET", `${V1}/Managers/IMC/NetworkProtocol`)).body.HTTPS.Certificates["@odata.id"]).toBe(`${V1}/Managers/IMC/NetworkProtocol/HTTPS/Certificates`);
    const cert = (await f.call("IPU1", "GET", certUri)).body;
    expect(cert).toMatchObject({ CertificateType: "PEM", Subject: { CommonName: new URL(f.url("IPU1")).hostname }, Issuer: { CommonName: "smartfleet emulator CA" } });
    expect(new X509Certificate(cert.CertificateString).fingerprint256).toBe(cert.Fingerprint);
    expect(cert.SerialNumber).toMatch(/^([0-9A-F]{2}:)*[0-9A-F]{2}$/);
    expect(cert.SerialNumber.replace(/:/g, "")).toBe(new X509Certificate(cert.CertificateString).serialNumber.toUpperCase().padStart(cert.SerialNumber.replace(/:/g, "").length, "0"));
  });

  it("refuses a private key, another key, another type or another certificate with the Base messages", async () => {
    const current = new X509Certificate((await f.call("IPU1", "GET", certUri)).body.CertificateString);
    const op = await operatorCa();
    const other = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
    const otherKey = Buffer.from(await webcrypto.subtle.exportKey("spki", other.publicKey));
    const ip = new URL(f.url("IPU1")).hostname;
    const body = (pem: string, extra: Body = {}) => ({ CertificateString: pem, CertificateType: "PEM", CertificateUri: { "@odata.id": certUri }, ...extra });
    const wrongKey = await f.call("IPU1", "POST", action, body(await op.issue(otherKey, ip)));
    expect(wrongKey.status).toBe(400);
    expect(messageId(wrongKey.body)).toMatch(/ActionParameterValueError$/);
    expect(wrongKey.body.error.message).toMatch(/another key/);
    const good = await op.issue(current.publicKey.export({ type: "spki", format: "der" }), ip);
    const withKey = await f.call("IPU1", "POST", action, body(`${good}-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n`));
    expect(withKey.body.error.message).toMatch(/keeps its own private key/);
    const der = await f.call("IPU1", "POST", action, body(good, { CertificateType: "DER" }));
    expect(messageId(der.body)).toMatch(/ActionParameterValueNotInList$/);
    const elsewhere = await f.call("IPU1", "POST", action, body(good, { CertificateUri: { "@odata.id": `${V1}/AccountService/LDAP/Certificates/1` } }));
    expect(messageId(elsewhere.body)).toMatch(/ActionParameterValueNotInList$/);
    const garbage = await f.call("IPU1", "POST", action, body("hello"));
    expect(messageId(garbage.body)).toMatch(/ActionParameterValueFormatError$/);
    const missing = await f.call("IPU1", "POST", action, { CertificateType: "PEM", CertificateUri: { "@odata.id": certUri } });
    expect(messageId(missing.body)).toMatch(/ActionParameterMissing$/);
    expect((await f.call("IPU1", "GET", certUri)).body.Fingerprint).toBe(current.fingerprint256);
  });

  it("GenerateCSR answers a signed PKCS#10 request for the port's own key, naming the port's address", async () => {
    const service = (await f.call("IPU1", "GET", `${V1}/CertificateService`)).body;
    const target = service.Actions["#CertificateService.GenerateCSR"].target;
    expect(target).toBe(`${V1}/CertificateService/Actions/CertificateService.GenerateCSR`);
    const ip = new URL(f.url("IPU1")).hostname;
    const collection = `${V1}/Managers/IMC/NetworkProtocol/HTTPS/Certificates`;
    const answer = await f.call("IPU1", "POST", target, { CommonName: ip, Organization: "Example Ops", Country: "DE", AlternativeNames: ["dpu-1.example.net"], KeyPairAlgorithm: "TPM_ALG_ECDSA", CertificateCollection: { "@odata.id": collection } });
    expect(answer.status).toBe(200);
    expect(answer.body.CertificateCollection).toEqual({ "@odata.id": collection });
    expect(Object.keys(answer.body).sort()).toEqual(["CSRString", "CertificateCollection"]);
    const csr = new x509.Pkcs10CertificateRequest(answer.body.CSRString);
    expect(await csr.verify()).toBe(true);
    expect(csr.subject).toBe(`CN=${ip}, O=Example Ops, C=DE`);
    const san = new x509.SubjectAlternativeNameExtension(csr.extensions.find((e) => e.type === "2.5.29.17")?.rawData ?? new ArrayBuffer(0));
    expect(san.names.toJSON()).toEqual([{ type: "ip", value: ip }, { type: "dns", value: "dpu-1.example.net" }]);
    const current = new X509Certificate((await f.call("IPU1", "GET", certUri)).body.CertificateString);
    expect(Buffer.from(csr.publicKey.rawData).equals(current.publicKey.export({ type: "spki", format: "der" }))).toBe(true);
    expect(answer.body.CSRString).not.toMatch(/PRIVATE KEY/);
  });

  it("GenerateCSR refuses a missing name, another collection, another key and parameters it does not take", async () => {
    const target = `${V1}/CertificateService/Actions/CertificateService.GenerateCSR`;
    const collection = { "@odata.id": `${V1}/Managers/IMC/NetworkProtocol/HTTPS/Certificates` };
    const ask = (body: Body) => f.call("IPU1", "POST", target, body);
    expect(messageId((await ask({ CertificateCollection: collection })).body)).toMatch(/ActionParameterMissing$/);
    expect(messageId((await ask({ CommonName: "x" })).body)).toMatch(/ActionParameterMissing$/);
    expect(messageId((await ask({ CommonName: "x", CertificateCollection: { "@odata.id": `${V1}/AccountService/LDAP/Certificates` } })).body)).toMatch(/ActionParameterValueNotInList$/);
    const rsa = await ask({ CommonName: "x", CertificateCollection: collection, KeyPairAlgorithm: "TPM_ALG_RSA", KeyBitLength: 2048 });
    expect(rsa.status).toBe(400);
    expect(rsa.body.error.message).toMatch(/TPM_ALG_ECDSA on TPM_ECC_NIST_P256/);
    expect(messageId((await ask({ CommonName: "x", CertificateCollection: collection, Surname: "Doe" })).body)).toMatch(/ActionParameterNotSupported$/);
    expect(messageId((await ask({ CommonName: "x", CertificateCollection: collection, Colour: "red" })).body)).toMatch(/ActionParameterUnknown$/);
    expect(messageId((await ask({ CommonName: "x", CertificateCollection: collection, Country: "Germany" })).body)).toMatch(/ActionParameterValueFormatError$/);
  });

  it("a certificate the operator's CA makes from the port's request replaces the port's certificate", async () => {
    // Another DPU: IPU1 keeps the emulator's certificate for the tests below.
    await f.claim("NV1");
    const ip = new URL(f.url("NV1")).hostname;
    const locations = (await f.call("NV1", "GET", `${V1}/CertificateService/CertificateLocations`)).body;
    const certificate = locations.Links.Certificates[0]["@odata.id"] as string;
    const collection = certificate.replace(/\/1$/, "");
    const csrPem = (await f.call("NV1", "POST", `${V1}/CertificateService/Actions/CertificateService.GenerateCSR`, { CommonName: ip, CertificateCollection: { "@odata.id": collection } })).body.CSRString;
    const csr = new x509.Pkcs10CertificateRequest(csrPem);
    const op = await operatorCa();
    const pem = await op.issue(Buffer.from(csr.publicKey.rawData), ip);
    const replaced = await f.call("NV1", "POST", action, { CertificateString: pem, CertificateType: "PEM", CertificateUri: { "@odata.id": certificate } });
    expect(replaced.status).toBe(200);
    expect((await request(op.pem, `${f.url("NV1")}${V1}`)).status).toBe(200);
    await expect(request(f.emu.caPem, `${f.url("NV1")}${V1}`)).rejects.toThrow(/certificate/i);
  });

  it("replaces the certificate with the operator CA's: new connections verify against that CA, not the emulator's", async () => {
    const current = new X509Certificate((await f.call("IPU1", "GET", certUri)).body.CertificateString);
    const op = await operatorCa();
    const ip = new URL(f.url("IPU1")).hostname;
    const pem = await op.issue(current.publicKey.export({ type: "spki", format: "der" }), ip);
    const replaced = await f.call("IPU1", "POST", action, { CertificateString: pem, CertificateType: "PEM", CertificateUri: { "@odata.id": certUri } });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ Issuer: { CommonName: "Operator CA", Organization: "Example Ops" }, Fingerprint: new X509Certificate(pem).fingerprint256 });
    const auth: [string, string] = ["admin", "Sm4rtFleet-pass"];
    const viaOperator = await request(op.pem, `${f.url("IPU1")}${V1}/Managers/IMC`, { auth });
    expect(viaOperator.status).toBe(200);
    await expect(request(f.emu.caPem, `${f.url("IPU1")}${V1}/Managers/IMC`, { auth })).rejects.toThrow(/certificate/i);
    const log = (await request(op.pem, `${f.url("IPU1")}${V1}/Managers/IMC/LogServices/EventLog/Entries`, { auth })).body;
    expect(log.Members.some((e: Body) => /HTTPS certificate replaced: .*Operator CA/.test(e.Message))).toBe(true);
    // The replacement is the port's certificate after a restart too.
    await f.emu.stop();
    f = await startTestFleet({ inventory, stateDir: f.stateDir });
    expect((await request(op.pem, `${f.url("IPU1")}${V1}/Managers/IMC`, { auth })).status).toBe(200);
  });
});
