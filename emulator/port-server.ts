/**
 * One HTTPS listener per DPU at its inventory address: reads requests (1 MiB limit, JSON
 * nested at most 32 deep), applies injected faults, counts requests, authenticates, checks
 * ETags, dispatches to the route table, and renders Redfish errors. Connections are bounded
 * (`PortLimits`: handshake, header, request and keep-alive timeouts, a per-port cap), so the
 * process stays up, and keeps its descriptors, whatever a client sends or leaves open.
 */
import * as crypto from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import * as https from "node:https";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { FleetPki } from "./certs";
import type { AccountState } from "./model";
import { csdlFile, metadataXml, odataServiceDocument } from "./redfish/metadata";
import { EVENT_STREAM_URI, eventStream } from "./redfish/event-service";
import { expandResource, type ExpandRequest } from "./redfish/expand";
import { isOemPath, withoutSmartFleet } from "./redfish/oem-view";
import { onlyMember, parseQuery, selectProperties } from "./redfish/query";
import { errorBody } from "./redfish/registry";
import { renderContext, type RenderContext } from "./redfish/resources";
import { buildRouter, OPEN_PATHS, passwordChangeInfo, type Handler, type Reply, type RouteContext } from "./redfish/routes";
import type { Router } from "./redfish/router";
import { ServiceError } from "./service-error";
import type { Simulation } from "./simulation";

/** Largest request body accepted. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Deepest nesting of arrays and objects accepted in a JSON body (Redfish payloads need under 10). */
export const MAX_JSON_DEPTH = 32;

/** Connection limits of every management port (all times in real milliseconds). */
export interface PortLimits {
  /** A connection that has not completed its TLS handshake by then is destroyed (no answer: there is no TLS session to answer in). Default 10 000. */
  handshakeTimeoutMs: number;
  /** A request whose headers are not complete by then answers 408 and the connection closes; a connection that sent nothing is just closed. Default 10 000. */
  headersTimeoutMs: number;
  /** A request (headers and body) not received in full by then answers 408 and the connection closes. Default 30 000. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this long. Default 5 000. */
  keepAliveTimeoutMs: number;
  /** Concurrent TCP connections per port; the next one is reset at once (as bmcweb does past its limit). Default 256. */
  maxConnectionsPerPort: number;
}

/** The defaults of `PortLimits`. */
export const DEFAULT_PORT_LIMITS: Readonly<PortLimits> = Object.freeze({
  handshakeTimeoutMs: 10_000,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnectionsPerPort: 256,
});

/** `DEFAULT_PORT_LIMITS` with `change` applied; throws on values that are not positive or on headers > request timeout. */
export function portLimits(change: Partial<PortLimits> = {}): PortLimits {
  const limits = { ...DEFAULT_PORT_LIMITS };
  for (const [key, value] of Object.entries(change) as [keyof PortLimits, number | undefined][]) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_PORT_LIMITS)) throw new Error(`unknown port limit ${key}`);
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) throw new Error(`port limit ${key} must be a positive integer, not ${String(value)}`);
    limits[key] = value;
  }
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) throw new Error("port limit headersTimeoutMs must not exceed requestTimeoutMs");
  return limits;
}

/** Faults injected on one DPU's port. */
export interface PortFaults {
  /** Connections are refused (reset) while true. */
  portDown: boolean;
  /** Extra delay before every answer (real milliseconds: it is network behaviour). */
  latencyMs: number;
  /** Share of requests (0..1) answered 503. */
  errorRate: number;
}

/** Request counts of one port. */
export interface PortCounters {
  /** Requests received. */
  requests: number;
  /** Answers by status code. */
  byStatus: Record<string, number>;
}

interface Port {
  serial: string;
  key: string;
  server: https.Server;
  sockets: Set<Socket>;
  render: RenderContext;
}

/**
 * What the port answers: a route's reply (`json`: its body already serialised, as a GET's
 * is with its ETag), raw text ($metadata), or a stream it keeps writing (the event stream).
 */
type Answer = Reply & { json?: string; raw?: { type: string; text: string }; stream?: (res: ServerResponse) => void };

/** A small seeded PRNG (mulberry32), so error-rate faults repeat under a seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The management ports of a fleet. */
export class ManagementPorts {
  private readonly ports = new Map<string, Port>();
  private readonly faults = new Map<string, PortFaults>();
  private readonly counters = new Map<string, PortCounters>();
  private readonly router: Router<Handler> = buildRouter();
  private readonly random: () => number;
  /** Hides the Oem/SmartFleet tree from reads (see redfish/oem-view.ts). */
  private oemHidden = false;
  /** The connection limits every port applies. */
  readonly limits: Readonly<PortLimits>;

  constructor(
    private readonly sim: Simulation,
    private readonly pki: FleetPki,
    seed: number,
    limits: Partial<PortLimits> = {},
  ) {
    this.random = seededRandom(seed);
    this.limits = Object.freeze(portLimits(limits));
  }

  /** Binds every DPU's listener; rejects (after closing what opened) if one cannot bind. */
  async start(): Promise<void> {
    const binds: Promise<void>[] = [];
    for (const serial of this.sim.serials()) {
      const { nic } = this.sim.placement(serial);
      const address = nic.management.address;
      const portNumber = nic.management.port ?? 8443;
      const issued = this.pki.leafCertPem.get(address);
      if (!issued) throw new Error(`no certificate for ${address}`);
      this.sim.certificates.setIssued(serial, issued, this.pki.leafKeyPem);
      // A certificate a client put in its place (CertificateService) outlives restarts.
      const cert = this.sim.certificates.current(serial);
      const limits = this.limits;
      const server = https.createServer({
        key: this.pki.leafKeyPem,
        cert,
        minVersion: "TLSv1.2",
        keepAlive: true,
        handshakeTimeout: limits.handshakeTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        // How often Node looks for requests past their header/request deadline (its default, 30 s,
        // would let a 30 s request timeout fire up to a minute late).
        connectionsCheckingInterval: Math.max(25, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4))),
      });
      const key = `${address}:${portNumber}`;
      const port: Port = { serial, key, server, sockets: new Set(), render: renderContext(this.sim, serial) };
      // TLS sockets that completed the handshake, and how many request bytes each had read when
      // its last answer finished (more than that at a timeout means a request was started).
      const secured = new WeakSet<Socket>();
      const answeredAt = new WeakMap<Socket, number>();
      server.on("connection", (socket: Socket) => {
        if (this.faultsOf(serial).portDown) {
          socket.destroy();
          return;
        }
        if (port.sockets.size >= limits.maxConnectionsPerPort) {
          // Refused before any TLS work: a reset costs the port nothing, and the client sees ECONNRESET at once.
          socket.resetAndDestroy();
          return;
        }
        port.sockets.add(socket);
        socket.on("close", () => port.sockets.delete(socket));
      });
      server.on("secureConnection", (socket: TLSSocket) => secured.add(socket));
      server.on("request", (req: IncomingMessage, res: ServerResponse) => {
        res.on("finish", () => answeredAt.set(req.socket, req.socket.bytesRead));
        this.handle(port, req, res);
      });
      server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
        if (!secured.has(socket)) return void socket.destroy(); // handshake failed or timed out: nothing can be written
        if (err.code === "ERR_HTTP_REQUEST_TIMEOUT" && socket.bytesRead <= (answeredAt.get(socket) ?? 0)) return void socket.destroy(); // idle: just close
        rejectUnparsable(err, socket);
      });
      this.ports.set(serial, port);
      this.counters.set(key, { requests: 0, byStatus: {} });
      binds.push(
        new Promise<void>((resolve, reject) => {
          server.once("error", (err) => reject(new Error(`cannot listen on ${key} for DPU ${serial}: ${err.message}`, { cause: err })));
          server.listen(portNumber, address, () => resolve());
        }),
      );
    }
    // New connections get a replaced certificate at once; open ones keep theirs.
    this.sim.certificates.onReplace((serial, pem) => this.ports.get(serial)?.server.setSecureContext({ key: this.pki.leafKeyPem, cert: pem, minVersion: "TLSv1.2" }));
    const results = await Promise.allSettled(binds);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) {
      await this.stop();
      throw failed.reason;
    }
  }

  /** Closes every listener and connection. */
  async stop(): Promise<void> {
    await Promise.all(
      [...this.ports.values()].map(
        (p) =>
          new Promise<void>((resolve) => {
            for (const s of p.sockets) s.destroy();
            p.server.close(() => resolve());
          }),
      ),
    );
    this.ports.clear();
  }

  /** The faults of a DPU (all off by default). */
  faultsOf(serial: string): PortFaults {
    return this.faults.get(serial) ?? { portDown: false, latencyMs: 0, errorRate: 0 };
  }

  /** Sets (merges) faults on a DPU's port; taking the port down drops open connections. */
  setFaults(serial: string, change: Partial<PortFaults>): PortFaults {
    this.sim.placement(serial);
    const next = { ...this.faultsOf(serial), ...change };
    this.faults.set(serial, next);
    if (next.portDown) for (const s of this.ports.get(serial)?.sockets ?? []) s.destroy();
    return next;
  }

  /** Whether reads show the Oem/SmartFleet tree (every port of the fleet). */
  oemView(): { hidden: boolean } {
    return { hidden: this.oemHidden };
  }

  /** Hides the Oem/SmartFleet tree from reads, or shows it again. */
  setOemHidden(hidden: boolean): { hidden: boolean } {
    this.oemHidden = hidden;
    return this.oemView();
  }

  /** Clears all faults of a DPU. */
  clearFaults(serial: string): void {
    this.sim.placement(serial);
    this.faults.delete(serial);
  }

  /** Request counters by `address:port`. */
  countersSnapshot(): Record<string, PortCounters> {
    return Object.fromEntries([...this.counters].map(([k, v]) => [k, { requests: v.requests, byStatus: { ...v.byStatus } }]));
  }

  /** Zeroes every counter. */
  resetCounters(): void {
    for (const c of this.counters.values()) {
      c.requests = 0;
      c.byStatus = {};
    }
  }

  private handle(port: Port, req: IncomingMessage, res: ServerResponse): void {
    const counter = this.counters.get(port.key);
    if (counter) counter.requests++;
    res.on("finish", () => {
      if (counter) counter.byStatus[res.statusCode] = (counter.byStatus[res.statusCode] ?? 0) + 1;
    });
    const faults = this.faultsOf(port.serial);
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number(req.headers["content-length"] ?? 0) > MAX_BODY_BYTES;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      else if (!tooLarge) chunks.push(chunk);
    });
    req.on("error", () => res.destroy());
    req.on("end", () => {
      const answer = (): void => {
        let reply: Answer;
        try {
          if (faults.errorRate > 0 && this.random() < faults.errorRate) {
            throw new ServiceError(503, "ServiceTemporarilyUnavailable", ["1"], "injected fault: the management controller is busy", { headers: { "Retry-After": "1" } });
          }
          if (tooLarge) throw new ServiceError(413, "PayloadTooLarge", [], `request bodies are limited to ${MAX_BODY_BYTES} bytes`);
          reply = this.dispatch(port, req, Buffer.concat(chunks));
        } catch (err) {
          reply = errorReply(err);
        }
        if (reply.later) reply.later.then((r) => send(req, res, r), (err: unknown) => send(req, res, errorReply(err)));
        else send(req, res, reply);
      };
      if (faults.latencyMs > 0) setTimeout(answer, faults.latencyMs);
      else answer();
    });
  }

  private dispatch(port: Port, req: IncomingMessage, raw: Buffer): Answer {
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", "https://dpu");
    let pathname = url.pathname.replace(/\/+$/, "");
    if (pathname === "") pathname = "/";
    if (pathname === "/redfish/v1/$metadata" || pathname === "/redfish/v1/schemas/SmartFleet_v1.xml") {
      if (method !== "GET" && method !== "HEAD") throw methodNotAllowed(["GET", "HEAD"]);
      if (!accepts(req, "application/xml")) throw notAcceptable();
      return { status: 200, raw: { type: "application/xml", text: pathname.endsWith(".xml") ? csdlFile() : metadataXml() } };
    }
    if (pathname === "/redfish/v1/odata") {
      if (method !== "GET" && method !== "HEAD") throw methodNotAllowed(["GET", "HEAD"]);
      return { status: 200, body: odataServiceDocument() };
    }
    const odataVersion = req.headers["odata-version"];
    if (odataVersion !== undefined && odataVersion !== "4.0") {
      throw new ServiceError(412, "PreconditionFailed", [], `OData-Version ${String(odataVersion)} is not supported; this service speaks 4.0`);
    }
    if (pathname === EVENT_STREAM_URI) {
      // The server-sent event stream: its own query ($filter) and an answer that stays open.
      if (method !== "GET") throw methodNotAllowed(["GET"]);
      if (!accepts(req, "text/event-stream")) throw notAcceptable();
      const auth = this.authenticate(port, req);
      checkPrivilege(auth.account, method, pathname, auth.sessionId);
      return eventStream(port.render, url.searchParams, req.headers["last-event-id"]);
    }
    const query = parseQuery(url.searchParams);
    const expand = query.expand;
    // DSP0266: a POST to a collection's Members property URI creates a member, like a POST to the collection.
    if (method === "POST" && pathname.endsWith("/Members")) pathname = pathname.slice(0, -"/Members".length);
    const match = this.router.match(method, pathname);
    const hidden = this.oemHidden && (method === "GET" || method === "HEAD") && isOemPath(pathname);
    if (match.kind === "not-found" || hidden) throw new ServiceError(404, "ResourceMissingAtURI", [pathname], `no resource at ${pathname}`);
    if (match.kind === "method-not-allowed") throw methodNotAllowed(match.allow);
    if (!accepts(req, "application/json")) throw notAcceptable();
    const isLogin = method === "POST" && pathname === "/redfish/v1/SessionService/Sessions";
    // An open resource needs no credentials, but what its expansion inlines does: when a
    // request sends them, they decide what the expansion may show.
    const open = (OPEN_PATHS.has(pathname) && !(expand && hasCredentials(req))) || isLogin;
    const auth = open ? { account: undefined, sessionId: undefined } : this.authenticate(port, req);
    if (auth.account && !OPEN_PATHS.has(pathname)) checkPrivilege(auth.account, method, pathname, auth.sessionId);
    const body = method === "POST" || method === "PATCH" || method === "PUT" ? parseJsonObject(raw) : {};
    const ctx: RouteContext = { ...port.render, params: match.params, body, query: url.searchParams, headers: req.headers, account: auth.account, sessionId: auth.sessionId, source: req.socket.remoteAddress };
    if (method === "PATCH" && req.headers["if-match"]) {
      const current = this.router.match("GET", pathname);
      if (current.kind === "found") {
        const etag = etagOf(current.handler({ ...ctx, params: current.params }).body);
        const wanted = String(req.headers["if-match"]).split(",").map((s) => s.trim());
        if (!wanted.includes("*") && !wanted.includes(etag)) {
          throw new ServiceError(412, "PreconditionFailed", [], `If-Match ${String(req.headers["if-match"])} does not match the current ETag ${etag}`);
        }
      }
    }
    let reply: Answer = match.handler(ctx);
    if (method === "GET" || method === "HEAD") {
      if (query.only && reply.body) reply = this.onlyMemberOf(ctx, reply);
      if (expand && reply.body) reply.body = this.expand(ctx, reply.body as Record<string, unknown>, expand);
      if (query.select && reply.body) reply.body = selectProperties(reply.body as Record<string, unknown>, query.select);
      if (this.oemHidden && reply.body) reply.body = withoutSmartFleet(reply.body);
      const { etag, json } = withEtag(reply.body);
      reply.headers = { ...reply.headers, ETag: etag, ...describedBy(reply.body) };
      const inm = req.headers["if-none-match"];
      if (inm && String(inm).split(",").map((s) => s.trim()).includes(etag)) return { status: 304, headers: reply.headers };
      if (json !== undefined) reply = { ...reply, json };
    }
    reply.headers = { Allow: match.allow.join(", "), ...reply.headers };
    return reply;
  }

  /** `?only`: the one member of a collection, read as the account would GET it; else the collection. */
  private onlyMemberOf(ctx: RouteContext, reply: Reply): Reply {
    const uri = onlyMember(reply.body as Record<string, unknown>);
    if (uri === undefined) return reply;
    const path = uri.replace(/\/+$/, "") || "/";
    const found = this.router.match("GET", path);
    if (found.kind !== "found") return reply;
    if (ctx.account) checkPrivilege(ctx.account, "GET", path, ctx.sessionId);
    return found.handler({ ...ctx, params: found.params, query: new URLSearchParams() });
  }

  /** Inlines the hyperlinks `request` selects, each as the account would GET it. */
  private expand(ctx: RouteContext, body: Record<string, unknown>, request: ExpandRequest): Record<string, unknown> {
    return expandResource(body, request, (uri) => {
      const path = uri.replace(/\/+$/, "") || "/";
      const found = this.router.match("GET", path);
      if (found.kind !== "found" || (this.oemHidden && isOemPath(path))) return undefined;
      try {
        if (!OPEN_PATHS.has(path)) {
          if (!ctx.account) return undefined;
          checkPrivilege(ctx.account, "GET", path, ctx.sessionId);
        }
        const resource = found.handler({ ...ctx, params: found.params, query: new URLSearchParams() }).body as Record<string, unknown>;
        // The expansion copies what it keeps: a render may share the port's state objects.
        return { ...resource, "@odata.etag": etagOfText(JSON.stringify(resource)) };
      } catch (error) {
        if (error instanceof ServiceError) return undefined; // not visible to this account, or gone: stays a reference
        throw error;
      }
    });
  }

  private authenticate(port: Port, req: IncomingMessage): { account: AccountState; sessionId: string | undefined } {
    const token = req.headers["x-auth-token"];
    const doc = this.sim.docOf(port.serial);
    if (typeof token === "string" && token) {
      const session = this.sim.accounts.sessionByToken(port.serial, token);
      const account = session && doc.accounts.find((a) => a.id === session.accountId);
      if (!session || !account) throw unauthorized("the X-Auth-Token is not a live session; log in again");
      return { account, sessionId: session.id };
    }
    const header = req.headers.authorization;
    if (header && /^basic /i.test(header)) {
      const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon < 0) throw unauthorized("malformed Basic credentials");
      const account = this.sim.accounts.authenticate(port.serial, decoded.slice(0, colon), decoded.slice(colon + 1), req.url ?? "/redfish/v1", req.socket.remoteAddress);
      return { account, sessionId: undefined };
    }
    throw unauthorized("authentication required: Basic auth or an X-Auth-Token from SessionService/Sessions");
  }
}

/** `Link: <schema>; rel=describedby` for a typed resource (DMTF schemas by their published URI). */
function describedBy(body: unknown): Record<string, string> {
  const type = body && typeof body === "object" ? (body as Record<string, unknown>)["@odata.type"] : undefined;
  if (typeof type !== "string") return {};
  const m = /^#([A-Za-z]+)\.(v\d+_\d+_\d+)\.[A-Za-z]+$/.exec(type) ?? /^#([A-Za-z]+)\.[A-Za-z]+$/.exec(type);
  if (!m) return {};
  const uri = m[1].startsWith("SmartFleet") ? "/redfish/v1/schemas/SmartFleet_v1.xml" : `http://redfish.dmtf.org/schemas/v1/${m[2] ? `${m[1]}.${m[2]}` : m[1]}.json`;
  return { Link: `<${uri}>; rel=describedby` };
}

/** Time a closing connection gets to flush its last answer before it is destroyed. */
const CLOSE_GRACE_MS = 1_000;

/**
 * Answers, on a connection with a TLS session, what the HTTP parser refused (an unknown
 * method: 501, oversized headers: 431, a request not received in time: 408, else 400),
 * and closes the connection; destroys it if the answer does not flush in time.
 */
function rejectUnparsable(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable) return void socket.destroy();
  const [status, text, key, why] =
    err.code === "HPE_INVALID_METHOD"
      ? [501, "Not Implemented", "OperationNotAllowed", "the request could not be parsed (HPE_INVALID_METHOD)"]
      : err.code === "HPE_HEADER_OVERFLOW"
        ? [431, "Request Header Fields Too Large", "GeneralError", "the request could not be parsed (HPE_HEADER_OVERFLOW)"]
        : err.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? [408, "Request Timeout", "GeneralError", "the request was not received in full in time; the connection is closed"]
          : [400, "Bad Request", "GeneralError", `the request could not be parsed (${err.code ?? "parse error"})`];
  const body = JSON.stringify(errorBody(key, [], why));
  const grace = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
  grace.unref();
  socket.once("close", () => clearTimeout(grace));
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json; charset=utf-8\r\nOData-Version: 4.0\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

function unauthorized(why: string): ServiceError {
  return new ServiceError(401, "NoValidSession", [], why, { headers: { "WWW-Authenticate": 'Basic realm="smartfleet"' } });
}

function methodNotAllowed(allow: string[]): ServiceError {
  return new ServiceError(405, "OperationNotAllowed", [], `method not allowed; allowed: ${allow.join(", ")}`, { headers: { Allow: allow.join(", ") } });
}

function notAcceptable(): ServiceError {
  return new ServiceError(406, "GeneralError", [], "the Accept header allows no media type this resource has (application/json, or application/xml for $metadata)");
}

/** Factory accounts may only read and change themselves (and log out); read-only accounts only read. */
function checkPrivilege(account: AccountState, method: string, pathname: string, sessionId: string | undefined): void {
  const own = `/redfish/v1/AccountService/Accounts/${encodeURIComponent(account.id)}`;
  const ownSession = sessionId !== undefined && pathname === `/redfish/v1/SessionService/Sessions/${sessionId}`;
  if (account.passwordChangeRequired) {
    const allowed = (pathname === own && (method === "GET" || method === "HEAD" || method === "PATCH")) || (ownSession && method === "DELETE");
    if (!allowed) {
      const info = passwordChangeInfo(account.id);
      throw new ServiceError(403, "PasswordChangeRequired", [own], String(info.Message));
    }
    return;
  }
  if (method === "GET" || method === "HEAD" || (ownSession && method === "DELETE") || (pathname === own && method === "PATCH")) return;
  if (account.roleId === "ReadOnly") throw new ServiceError(403, "InsufficientPrivilege", [], `role ReadOnly cannot ${method} ${pathname}`);
  if (account.roleId === "Operator" && pathname.startsWith("/redfish/v1/AccountService")) {
    throw new ServiceError(403, "InsufficientPrivilege", [], `role Operator cannot manage accounts`);
  }
}

function hasCredentials(req: IncomingMessage): boolean {
  return req.headers["x-auth-token"] !== undefined || req.headers.authorization !== undefined;
}

function accepts(req: IncomingMessage, type: string): boolean {
  const accept = req.headers.accept;
  if (!accept) return true;
  return accept.split(",").some((part) => {
    const t = part.split(";")[0].trim().toLowerCase();
    return t === "*/*" || t === type || t === `${type.split("/")[0]}/*` || (type === "application/json" && t === "application/json;charset=utf-8");
  });
}

/**
 * The deepest nesting of arrays and objects in JSON text, found by one pass over the text
 * (no recursion, so any depth is safe to measure); stops counting past `limit`.
 */
export function jsonNestingDepth(text: string, limit = Infinity): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return deepest;
}

/** The JSON object of a request body; 400 `MalformedJSON` (with a short message) when it is not one or nests deeper than `MAX_JSON_DEPTH`. */
export function parseJsonObject(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) return {};
  const text = raw.toString("utf8");
  // Checked before parsing: a deep value would otherwise overflow the stack of whatever walks it later (stringify, formatting).
  if (jsonNestingDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new ServiceError(400, "MalformedJSON", [], `the body nests arrays or objects deeper than ${MAX_JSON_DEPTH} levels`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new ServiceError(400, "MalformedJSON", [], `the body is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new ServiceError(400, "MalformedJSON", [], "the body must be a JSON object");
  }
  return parsed as Record<string, unknown>;
}

/** A weak ETag over the resource's JSON. */
export function etagOf(body: unknown): string {
  const copy = body && typeof body === "object" ? { ...(body as Record<string, unknown>) } : body;
  if (copy && typeof copy === "object") delete (copy as Record<string, unknown>)["@odata.etag"];
  return etagOfText(JSON.stringify(copy ?? null));
}

/**
 * The ETag of a GET's body and, for a resource (a body with an `@odata.id`), the JSON to
 * send: the body with its `@odata.etag` (last, unless the body had one in place already).
 * A snapshot's answer is tens of kilobytes, so the text hashed is the text sent, with the
 * annotation appended, not serialised twice.
 */
function withEtag(body: unknown): { etag: string; json?: string } {
  const resource = body && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>) : undefined;
  if (!resource?.["@odata.id"] || Object.hasOwn(resource, "@odata.etag")) {
    const etag = etagOf(body);
    return resource?.["@odata.id"] ? { etag, json: JSON.stringify({ ...resource, "@odata.etag": etag }) } : { etag };
  }
  const text = JSON.stringify(resource);
  const etag = etagOfText(text);
  return { etag, json: `${text.slice(0, -1)},"@odata.etag":${JSON.stringify(etag)}}` };
}

/** The hex SHA-1 of a text: the one-shot `crypto.hash` where Node has it (20.12+), about half the CPU of a Hash object for a small resource. */
const sha1Hex: (text: string) => string =
  typeof crypto.hash === "function" ? (text) => crypto.hash("sha1", text, "hex") : (text) => crypto.createHash("sha1").update(text).digest("hex");

/** The weak ETag of a resource serialised without its `@odata.etag`. */
function etagOfText(json: string): string {
  return `W/"${sha1Hex(json).slice(0, 16)}"`;
}

function errorReply(err: unknown): Reply {
  if (err instanceof ServiceError) return { status: err.status, headers: err.headers, body: errorBody(err.messageKey, err.args, err.message) };
  console.error(`emulator: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  return { status: 500, body: errorBody("InternalError", [], "internal error in the emulator") };
}

function send(req: IncomingMessage, res: ServerResponse, reply: Answer): void {
  const headers: Record<string, string> = { "OData-Version": "4.0", "Cache-Control": "no-cache", ...reply.headers };
  if (reply.stream) {
    res.writeHead(reply.status, headers);
    return reply.stream(res);
  }
  let payload: string | undefined;
  if (reply.raw) {
    headers["Content-Type"] = `${reply.raw.type}; charset=utf-8`;
    payload = reply.raw.text;
  } else if (reply.body !== undefined && reply.status !== 204 && reply.status !== 304) {
    headers["Content-Type"] = "application/json; charset=utf-8";
    payload = reply.json ?? JSON.stringify(reply.body);
  }
  if (payload !== undefined) headers["Content-Length"] = String(Buffer.byteLength(payload));
  res.writeHead(reply.status, headers);
  res.end(req.method === "HEAD" ? undefined : payload);
}
