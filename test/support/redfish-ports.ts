/**
 * Test support for the management-port client tests: a throwaway CA and a server
 * certificate for 127.0.0.1 (made with @peculiar/x509), and a small HTTPS server on a
 * loopback port whose answers each test scripts. Nothing here sleeps.
 */

import "reflect-metadata";
import * as https from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { afterEach, beforeAll } from "vitest";
import { InstantClock, RedfishClient, type ClientOptions } from "../../providers/redfish";

type CryptoKeyPair = webcrypto.CryptoKeyPair;
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** A CA and a server certificate it signed. */
export interface TestPki {
  /** CA certificate, PEM (what the client trusts). */
  caPem: string;
  /** Server certificate, PEM. */
  certPem: string;
  /** Server private key, PKCS#8 PEM. */
  keyPem: string;
}

const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** Makes a fresh CA and a certificate for `127.0.0.1` signed by it. */
export async function makePki(commonName = "smartfleet test CA"): Promise<TestPki> {
  const caKeys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(Date.now() + 24 * 3600_000);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: `CN=${commonName}`,
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const leafKeys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: "02",
    subject: "CN=127.0.0.1",
    issuer: ca.subject,
    notBefore,
    notAfter,
    publicKey: leafKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false),
      new x509.SubjectAlternativeNameExtension([{ type: "ip", value: "127.0.0.1" }]),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey("pkcs8", leafKeys.privateKey);
  return {
    caPem: ca.toString("pem"),
    certPem: leaf.toString("pem"),
    keyPem: x509.PemConverter.encode(pkcs8, "PRIVATE KEY"),
  };
}

/** One request as the test server saw it. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: unknown;
  /** The client's port: requests on the same connection share it. */
  remotePort?: number;
}

/** What a handler answers. `hang: true` never answers (for timeout tests). */
export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  hang?: boolean;
  /** Destroy the connection without answering. */
  drop?: boolean;
}

/** Answers one request; return undefined to fall through to the next handler. */
export type Handler = (req: SeenRequest) => Reply | undefined;

/** A running scripted HTTPS server. */
export interface ScriptedServer {
  /** `https://127.0.0.1:PORT`. */
  url: string;
  /** Every request received, in order. */
  seen: SeenRequest[];
  /** Handlers tried in order; the first that answers wins. Tests may push/unshift. */
  handlers: Handler[];
  /** Stops the server and drops open connections. */
  close(): Promise<void>;
}

/** Starts an HTTPS server on 127.0.0.1 (random port) answering through `handlers`. */
export async function startScriptedServer(pki: TestPki, handlers: Handler[] = []): Promise<ScriptedServer> {
  const seen: SeenRequest[] = [];
  const state = { handlers };
  const server = https.createServer({ cert: pki.certPem, key: pki.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      const request: SeenRequest = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: text ? JSON.parse(text) : undefined, remotePort: req.socket.remotePort };
      seen.push(request);
      const reply = state.handlers.map((h) => h(request)).find((r) => r !== undefined) ?? notFound();
      answer(res, reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    seen,
    get handlers() {
      return state.handlers;
    },
    set handlers(h: Handler[]) {
      state.handlers = h;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function answer(res: ServerResponse, reply: Reply): void {
  if (reply.hang) return;
  if (reply.drop) {
    res.socket?.destroy();
    return;
  }
  const payload = reply.body === undefined ? "" : JSON.stringify(reply.body);
  res.writeHead(reply.status, { ...(payload ? { "Content-Type": "application/json" } : {}), ...reply.headers });
  res.end(payload);
}

/** A Redfish error body with one Base registry message. */
export function redfishError(messageId: string, message: string, resolution = "Resolve the condition and resubmit."): unknown {
  return {
    error: {
      code: "Base.1.18.GeneralError",
      message: "A general error has occurred. See ExtendedInfo for more information.",
      "@Message.ExtendedInfo": [{ MessageId: messageId, Message: message, Resolution: resolution, Severity: "Critical", MessageSeverity: "Critical" }],
    },
  };
}

function notFound(): Reply {
  return { status: 404, body: redfishError("Base.1.18.ResourceNotFound", "The requested resource was not found.") };
}

/** The password the scripted ports accept for `root` unless a test says otherwise. */
export const PASSWORD = "s3cret-Passw0rd";
export const SESSIONS = "/redfish/v1/SessionService/Sessions";

/** A minimal port: open service root, sessions for root/PASSWORD, tokens tok-1, tok-2 ... */
export function basicPort(opts: { expand?: boolean; passwords?: Record<string, string> } = {}): Handler[] {
  let issued = 0;
  const passwords = opts.passwords ?? { root: PASSWORD };
  return [
    (req) =>
      req.method === "GET" && req.url === "/redfish/v1"
        ? {
            status: 200,
            body: {
              "@odata.id": "/redfish/v1",
              Links: { Sessions: { "@odata.id": SESSIONS } },
              AccountService: { "@odata.id": "/redfish/v1/AccountService" },
              ProtocolFeaturesSupported: { ExpandQuery: { Levels: opts.expand ?? false, NoLinks: opts.expand ?? false, MaxLevels: 1 } },
            },
          }
        : undefined,
    (req) => {
      if (req.method !== "POST" || req.url !== SESSIONS) return undefined;
      const { UserName, Password } = req.body as { UserName: string; Password: string };
      if (passwords[UserName] !== Password) {
        return { status: 401, body: redfishError("Base.1.18.ResourceAtUriUnauthorized", `Login for ${UserName} with password ${Password} failed.`) };
      }
      issued++;
      return { status: 201, headers: { "X-Auth-Token": `tok-${issued}`, Location: `${SESSIONS}/s${issued}` }, body: { "@odata.id": `${SESSIONS}/s${issued}` } };
    },
    (req) => (req.method === "DELETE" && req.url.startsWith(`${SESSIONS}/`) ? { status: 204 } : undefined),
  ];
}

/** Answers GET `uri` only to requests carrying a session token. */
export const authedGet = (uri: string, body: unknown, etag = 'W/"1"'): Handler => (req) =>
  req.method === "GET" && req.url === uri && req.headers["x-auth-token"] ? { status: 200, body, headers: { ETag: etag } } : undefined;

/** A scripted port per test in a file: the test CA made once, the port closed after each test, clients that trust it. */
export interface ScriptedPortFixture {
  /** The test CA (set before the first test). */
  readonly pki: TestPki;
  /** The port of the running test; assign the one the test starts. */
  server: ScriptedServer;
  /** A client of the test's port, with an instant clock and no jitter. */
  open(overrides?: ClientOptions, password?: string): RedfishClient;
}

/** Registers the file's hooks and answers the fixture; call at the top of a test file. */
export function scriptedPortFixture(): ScriptedPortFixture {
  let pki: TestPki | undefined;
  let server: ScriptedServer | undefined;
  beforeAll(async () => {
    pki = await makePki();
  });
  afterEach(async () => {
    await server?.close();
  });
  return {
    get pki() {
      return pki as TestPki;
    },
    get server() {
      return server as ScriptedServer;
    },
    set server(value: ScriptedServer) {
      server = value;
    },
    open(overrides: ClientOptions = {}, password = PASSWORD): RedfishClient {
      return RedfishClient.open(
        { url: (server as ScriptedServer).url, caPem: (pki as TestPki).caPem, username: "root", password },
        { clock: new InstantClock(), random: () => 0.5, callTimeoutMs: 10_000, ...overrides },
      );
    },
  };
}
