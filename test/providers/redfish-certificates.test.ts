/**
 * Rotating a management port's HTTPS certificate to the operator's CA (providers/redfish/
 * certificates.ts): against real emulated ports over real HTTPS — GenerateCSR, signing,
 * ReplaceCertificate, then a new connection trusting only the operator's CA — and against a
 * scripted port for what the emulator never does (no GenerateCSR, a request for another
 * address, a port that keeps its old certificate). A CA key of another certificate is
 * refused before any port is touched.
 */
import { X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CertificateRotationError, loadOperatorCa, OperatorCaError, presentedCertificate, RedfishClient, rotatePortCertificate } from "../../providers/redfish";
import { checkSigningRequest } from "../../providers/redfish/operator-ca";
import { NEW_PASSWORD, request, startTestFleet, type TestFleet } from "../emulator/helpers";
import { makeOperatorCa, signingRequestFor, type CaFiles } from "../support/operator-ca";
import { basicPort, PASSWORD, scriptedPortFixture, startScriptedServer, type Handler } from "../support/redfish-ports";

describe("rotatePortCertificate against emulated ports", () => {
  let f: TestFleet;
  let op: CaFiles;
  const clients: RedfishClient[] = [];
  /** A client of a DPU's port trusting `caPem` (the emulator's CA, the operator's, or both). */
  const open = (serial: string, caPem: string, user = "root"): RedfishClient => {
    const client = RedfishClient.open({ url: f.url(serial), caPem, username: user, password: NEW_PASSWORD }, { callTimeoutMs: 5_000, retries: 1 });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    f = await startTestFleet();
    for (const serial of ["NV1", "AMD1"]) await f.claim(serial);
    op = await makeOperatorCa();
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await f.emu.stop();
  });

  it("rotates a port to a certificate from the operator's CA that a new connection trusting only that CA accepts", async () => {
    const outcome = await rotatePortCertificate(open("NV1", f.emu.caPem), op, { days: 30 });
    expect(outcome.action).toBe("rotated");
    const presented = await presentedCertificate(f.url("NV1"), op.certPem);
    expect(presented.verified).toBe(true);
    if (!presented.verified) return;
    const ip = new URL(f.url("NV1")).hostname;
    expect(presented.cert.subjectAltName).toBe(`IP Address:${ip}`);
    expect(presented.cert.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
    expect((Date.parse(presented.cert.validTo) - Date.now()) / 86_400_000).toBeCloseTo(30, 0);
    expect(presented.cert.checkIssued(new X509Certificate(op.certPem))).toBe(true);
    expect((await request(op.certPem, `${f.url("NV1")}/redfish/v1`)).status).toBe(200);
    await expect(request(f.emu.caPem, `${f.url("NV1")}/redfish/v1`)).rejects.toThrow(/certificate/i);
  });

  it("a client trusting a bundle of both CAs reads a rotated port and one not rotated yet", async () => {
    const bundle = f.emu.caPem + op.certPem;
    for (const serial of ["NV1", "AMD1"]) {
      const client = open(serial, bundle, serial === "AMD1" ? "admin" : "root");
      expect(asString((await client.serviceRoot()).Id)).toBe("RootService");
      expect((await client.get("/redfish/v1/Managers")).body).toBeTruthy();
    }
  });

  it("leaves a port alone that already presents the operator CA's certificate with more than days/3 left, and renews one with less", async () => {
    const bundle = f.emu.caPem + op.certPem;
    const before = await presentedCertificate(f.url("NV1"), op.certPem);
    const skipped = await rotatePortCertificate(open("NV1", bundle), op, { days: 30 });
    expect(skipped).toMatchObject({ action: "skipped", daysLeft: 29 });
    const after = await presentedCertificate(f.url("NV1"), op.certPem);
    expect(after.verified && before.verified && after.cert.fingerprint256 === before.cert.fingerprint256).toBe(true);
    // 29 days left is not more than 100/3: renewed.
    expect((await rotatePortCertificate(open("NV1", bundle), op, { days: 100 })).action).toBe("rotated");
  });

  it("a dry run says what it would do and changes nothing", async () => {
    const outcome = await rotatePortCertificate(open("AMD1", f.emu.caPem, "admin"), op, { dryRun: true });
    expect(outcome).toMatchObject({ action: "would-rotate", why: "it presents a certificate not from CN=Operator CA, O=Example Ops" });
    expect((await presentedCertificate(f.url("AMD1"), f.emu.caPem)).verified).toBe(true);
  });

  it("refuses a CA key that belongs to another certificate before touching the port", async () => {
    const other = await makeOperatorCa("Other CA");
    const client = open("AMD1", f.emu.caPem, "admin");
    await expect(rotatePortCertificate(client, { certPem: op.certPem, keyPem: other.keyPem })).rejects.toThrow(OperatorCaError);
    await expect(loadOperatorCa({ certPem: op.certPem, keyPem: other.keyPem })).rejects.toThrow(/CA key does not match the CA certificate \(CN=Operator CA, O=Example Ops\)/);
    expect(client.requestCount).toBe(0);
    expect((await presentedCertificate(f.url("AMD1"), f.emu.caPem)).verified).toBe(true);
  });

  it("refuses a CA key it cannot read", async () => {
    await expect(loadOperatorCa({ certPem: op.certPem, keyPem: "not a key" })).rejects.toThrow(/CA key is not a readable/);
  });
});

describe("rotatePortCertificate against a scripted port", () => {
  const port = scriptedPortFixture();
  let op: CaFiles;
  beforeAll(async () => {
    op = await makeOperatorCa();
  });

  const CERTS = "/redfish/v1/Managers/bmc/NetworkProtocol/HTTPS/Certificates";
  /** A port whose CertificateService offers `actions`, answers GenerateCSR with `csr` and accepts any ReplaceCertificate. */
  const certificatePort = (actions: string[], csr = ""): Handler[] => [
    (req) => (req.method === "GET" && req.url === "/redfish/v1" ? { status: 200, body: { "@odata.id": "/redfish/v1", Links: { Sessions: { "@odata.id": "/redfish/v1/SessionService/Sessions" } }, CertificateService: { "@odata.id": "/redfish/v1/CertificateService" } } } : undefined),
    ...basicPort(),
    (req) =>
      req.method === "GET" && req.url === "/redfish/v1/CertificateService"
        ? { status: 200, body: { CertificateLocations: { "@odata.id": "/redfish/v1/CertificateService/CertificateLocations" }, Actions: Object.fromEntries(actions.map((a) => [`#CertificateService.${a}`, { target: `/redfish/v1/CertificateService/Actions/CertificateService.${a}` }])) } }
        : undefined,
    (req) => (req.method === "GET" && req.url === "/redfish/v1/CertificateService/CertificateLocations" ? { status: 200, body: { Links: { Certificates: [{ "@odata.id": `${CERTS}/1` }] } } } : undefined),
    (req) => (req.method === "GET" && req.url === `${CERTS}/1` ? { status: 200, body: { Issuer: { CommonName: "smartfleet test CA" }, Fingerprint: "AA:BB" } } : undefined),
    (req) => (req.method === "POST" && req.url.endsWith(".GenerateCSR") ? { status: 200, body: { CSRString: csr, CertificateCollection: { "@odata.id": CERTS } } } : undefined),
    (req) => (req.method === "POST" && req.url.endsWith(".ReplaceCertificate") ? { status: 200, body: {} } : undefined),
  ];
  const open = (): RedfishClient => RedfishClient.open({ url: port.server.url, caPem: port.pki.caPem, username: "root", password: PASSWORD }, { retries: 0 });

  it("says so when the port has no GenerateCSR", async () => {
    port.server = await startScriptedServer(port.pki, certificatePort(["ReplaceCertificate"]));
    const rotation = rotatePortCertificate(open(), op);
    await expect(rotation).rejects.toThrow(CertificateRotationError);
    await expect(rotatePortCertificate(open(), op)).rejects.toThrow(`${port.server.url}: the port's CertificateService has no GenerateCSR`);
  });

  it("refuses a signing request for another address and sends no certificate", async () => {
    const csr = await signingRequestFor(port.pki.keyPem, port.pki.certPem, "10.9.8.7");
    port.server = await startScriptedServer(port.pki, certificatePort(["GenerateCSR", "ReplaceCertificate"], csr));
    await expect(rotatePortCertificate(open(), op)).rejects.toThrow(/its signing request names 10\.9\.8\.7, not the port's address 127\.0\.0\.1; nothing was changed/);
    expect(port.server.seen.some((r) => r.url.endsWith(".ReplaceCertificate"))).toBe(false);
  });

  it("fails when the port accepts the certificate but keeps presenting the old one", async () => {
    const csr = await signingRequestFor(port.pki.keyPem, port.pki.certPem, "127.0.0.1");
    port.server = await startScriptedServer(port.pki, certificatePort(["GenerateCSR", "ReplaceCertificate"], csr));
    await expect(rotatePortCertificate(open(), op, { confirmTimeoutMs: 600 })).rejects.toThrow(/the port kept the old certificate: .* a certificate that does not verify against CN=Operator CA, O=Example Ops .*issuer \{"CommonName":"smartfleet test CA"\}/);
    const sent = port.server.seen.find((r) => r.url.endsWith(".ReplaceCertificate"))?.body as { CertificateString: string };
    expect(new X509Certificate(sent.CertificateString).checkIssued(new X509Certificate(op.certPem))).toBe(true);
  });

  it("checks a request's signature and names", async () => {
    const csr = await signingRequestFor(port.pki.keyPem, port.pki.certPem, "127.0.0.1");
    expect(typeof (await checkSigningRequest(csr, "127.0.0.1"))).toBe("object");
    expect(await checkSigningRequest(csr, "127.0.0.2")).toMatch(/names 127\.0\.0\.1, not the port's address 127\.0\.0\.2/);
    // The public key of another certificate in the request: its signature no longer verifies.
    const forged = await signingRequestFor(port.pki.keyPem, op.certPem, "127.0.0.1");
    expect(await checkSigningRequest(forged, "127.0.0.1")).toMatch(/signature does not verify/);
    expect(await checkSigningRequest("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", "127.0.0.1")).toMatch(/not a readable PEM PKCS#10/);
  });
});

function asString(v: unknown): string {
  return typeof v === "string" ? v : "";
}
