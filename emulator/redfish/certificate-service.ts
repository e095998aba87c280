/**
 * `CertificateService` as a DPU's BMC serves it: where its certificates are
 * (`CertificateLocations`), the port's HTTPS certificate
 * (`Managers/<manager>/NetworkProtocol/HTTPS/Certificates/1`, with the PEM and what it says),
 * `GenerateCSR`, which answers a signing request for the port's key for the operator's CA to
 * sign, and `ReplaceCertificate`, which puts a client's certificate for the port's key in its
 * place (`simulation/https-certificate.ts`); the port presents it to new connections at once.
 */
import { X509Certificate } from "node:crypto";
import { ServiceError } from "../service-error";
import { GENERATE_CSR } from "../simulation/certificate-request";
import { collection, link, ok, requireParam, V1, type BmcContext, type BmcReply, type BmcRoutes } from "./bmc-kit";
import type { RenderContext, Resource } from "./resources";

const ACTION = "CertificateService.ReplaceCertificate";

/** The URI of the port's HTTPS certificate collection. */
export function httpsCertificatesUri(c: RenderContext): string {
  return `${V1}/Managers/${c.ids.manager}/NetworkProtocol/HTTPS/Certificates`;
}

/** An X.509 name (`CN=..\nO=..`) as Redfish `Certificate.Identifier`. */
function identifier(name: string): Resource {
  const fields: Record<string, string> = { CN: "CommonName", O: "Organization", OU: "OrganizationalUnit", L: "City", ST: "State", C: "Country", emailAddress: "Email" };
  const out: Resource = {};
  for (const line of name.split("\n")) {
    const eq = line.indexOf("=");
    const key = fields[line.slice(0, eq)];
    if (eq > 0 && key) out[key] = line.slice(eq + 1);
  }
  return out;
}

/** Hex as Certificate.SerialNumber wants it: byte pairs joined by colons (`0A:1B:...`). */
function colonHex(hex: string): string {
  const even = hex.length % 2 ? `0${hex}` : hex;
  return even.toUpperCase().match(/../g)?.join(":") ?? "";
}

function iso(date: string): string {
  return new Date(date).toISOString().replace(/\.\d{3}Z$/, "+00:00");
}

/**
 * What each certificate says, by its PEM: parsing it cost ~0.3 ms in every snapshot read.
 * Every port has a certificate of its own (one for its address), and a rotation adds one,
 * so the map is bounded; the oldest go first.
 */
const factsByPem = new Map<string, ReturnType<typeof certificateFacts>>();
const MAX_KNOWN_CERTIFICATES = 20_000;

/** The Certificate properties read from the PEM itself. */
function certificateFacts(pem: string) {
  const x = new X509Certificate(pem);
  return {
    Subject: identifier(x.subject),
    Issuer: identifier(x.issuer),
    ValidNotBefore: iso(x.validFrom),
    ValidNotAfter: iso(x.validTo),
    SerialNumber: colonHex(x.serialNumber),
    Fingerprint: x.fingerprint256,
  };
}

function factsOf(pem: string): ReturnType<typeof certificateFacts> {
  let facts = factsByPem.get(pem);
  if (!facts) {
    facts = certificateFacts(pem);
    if (factsByPem.size >= MAX_KNOWN_CERTIFICATES) factsByPem.delete(factsByPem.keys().next().value as string);
    factsByPem.set(pem, facts);
  }
  return facts;
}

function certificate(c: RenderContext): Resource {
  const pem = c.sim.certificates.current(c.serial);
  const facts = factsOf(pem);
  return {
    "@odata.id": `${httpsCertificatesUri(c)}/1`,
    "@odata.type": "#Certificate.v1_5_0.Certificate",
    Id: "1",
    Name: "HTTPS certificate",
    CertificateString: pem,
    CertificateType: "PEM",
    Subject: { ...facts.Subject },
    Issuer: { ...facts.Issuer },
    ValidNotBefore: facts.ValidNotBefore,
    ValidNotAfter: facts.ValidNotAfter,
    SerialNumber: facts.SerialNumber,
    Fingerprint: facts.Fingerprint,
    FingerprintHashAlgorithm: "TPM_ALG_SHA256",
    KeyUsage: ["ServerAuthentication"],
    CertificateUsageTypes: ["Web"],
  };
}

/** POST ReplaceCertificate: CertificateString (PEM), CertificateType PEM, CertificateUri this port's HTTPS certificate. */
function replaceCertificate(c: BmcContext): Resource {
  for (const key of Object.keys(c.body)) {
    if (!key.startsWith("@") && !["CertificateString", "CertificateType", "CertificateUri"].includes(key)) {
      throw new ServiceError(400, "ActionParameterUnknown", [ACTION, key], `${ACTION} has no parameter ${key}`);
    }
  }
  for (const name of ["CertificateString", "CertificateType", "CertificateUri"]) {
    if (c.body[name] === undefined) throw new ServiceError(400, "ActionParameterMissing", [ACTION, name], `${ACTION} needs ${name}`);
  }
  if (c.body.CertificateType !== "PEM") {
    throw new ServiceError(400, "ActionParameterValueNotInList", [String(c.body.CertificateType), "CertificateType", ACTION], "CertificateType must be PEM");
  }
  const target = `${httpsCertificatesUri(c)}/1`;
  const uri = (c.body.CertificateUri as Record<string, unknown> | null)?.["@odata.id"];
  if (typeof uri !== "string" || uri.replace(/\/+$/, "") !== target) {
    throw new ServiceError(400, "ActionParameterValueNotInList", [JSON.stringify(c.body.CertificateUri), "CertificateUri", ACTION], `CertificateUri must be {"@odata.id": "${target}"}, the only certificate a client may replace here`);
  }
  c.sim.certificates.replace(c.serial, c.body.CertificateString);
  return certificate(c);
}

/** POST GenerateCSR: answered once the port has signed the request (DMTF's GenerateCSRResponse). */
function generateCsr(c: BmcContext): BmcReply {
  const collection = httpsCertificatesUri(c);
  const later = c.sim.certificates.signingRequest(c.serial, c.body, collection).then((csr) => ok({ CSRString: csr, CertificateCollection: link(collection) }));
  return { status: 200, later };
}

const scope = (c: BmcContext): void => requireParam(c, "manager", c.ids.manager, "Manager");

/** The routes of the certificate service and the port's HTTPS certificate. */
export function certificateRoutes(): BmcRoutes {
  return [
    [`${V1}/CertificateService`, {
      GET: () =>
        ok({
          "@odata.id": `${V1}/CertificateService`,
          "@odata.type": "#CertificateService.v1_0_4.CertificateService",
          Id: "CertificateService",
          Name: "Certificate Service",
          Description: "Actions available to manage certificates",
          CertificateLocations: link(`${V1}/CertificateService/CertificateLocations`),
          Actions: {
            "#CertificateService.GenerateCSR": { target: `${V1}/CertificateService/Actions/${GENERATE_CSR}` },
            "#CertificateService.ReplaceCertificate": { target: `${V1}/CertificateService/Actions/${ACTION}`, "CertificateType@Redfish.AllowableValues": ["PEM"] },
          },
        }),
    }],
    [`${V1}/CertificateService/CertificateLocations`, {
      GET: (c) =>
        ok({
          "@odata.id": `${V1}/CertificateService/CertificateLocations`,
          "@odata.type": "#CertificateLocations.v1_0_2.CertificateLocations",
          Id: "CertificateLocations",
          Name: "Certificate Locations",
          Links: { Certificates: [link(`${httpsCertificatesUri(c)}/1`)], "Certificates@odata.count": 1 },
        }),
    }],
    [`${V1}/CertificateService/Actions/${GENERATE_CSR}`, { POST: generateCsr }],
    [`${V1}/CertificateService/Actions/${ACTION}`, { POST: (c) => ok(replaceCertificate(c)) }],
    [`${V1}/Managers/{manager}/NetworkProtocol/HTTPS/Certificates`, {
      GET: (c) => (scope(c), ok(collection(httpsCertificatesUri(c), "CertificateCollection", "HTTPS certificates", [`${httpsCertificatesUri(c)}/1`]))),
    }],
    [`${V1}/Managers/{manager}/NetworkProtocol/HTTPS/Certificates/{id}`, {
      GET: (c) => {
        scope(c);
        requireParam(c, "id", "1", "Certificate");
        return ok(certificate(c));
      },
    }],
  ];
}
