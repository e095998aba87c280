/**
 * One HTTPS exchange with a management port, nothing more: TLS verified against the
 * endpoint's CA (never disabled), keep-alive connections, a hard per-call timeout, and
 * wire failures classified so the caller can decide whether a retry is safe.
 * Sessions, retries and Redfish semantics live in `client.ts`.
 */

import * as https from "node:https";
import type { Socket } from "node:net";
import * as tls from "node:tls";
import type { IncomingHttpHeaders } from "node:http";
import { ConnectionError, type ConnectionFailure } from "./errors";

/** A raw HTTP response with the body parsed when it is JSON. */
export interface RawResponse {
  /** HTTP status code. */
  status: number;
  /** Response headers (lower-case names). */
  headers: IncomingHttpHeaders;
  /** Parsed JSON body, the text when not JSON, or undefined when empty. */
  body: unknown;
}

/** One request to send. */
export interface RawRequest {
  /** HTTP method. */
  method: string;
  /** Path (and query) below the endpoint, e.g. `/redfish/v1/Systems`. */
  uri: string;
  /** Extra request headers. */
  headers: Record<string, string>;
  /** JSON body, if any. */
  body?: unknown;
  /** Abort and fail with `ConnectionError` (failure `timeout`) after this many ms. */
  timeoutMs: number;
  /**
   * The request must not be repeated: it travels on a keep-alive connection only when
   * that connection answered a moment ago ({@link RECENTLY_FREED_MS}), else on a new one.
   */
  freshConnection?: boolean;
}

/** TLS error codes from OpenSSL/Node that mean "the certificate was not accepted". */
const TLS_CODES = new Set([
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_SIGNATURE_FAILURE",
  "CERT_UNTRUSTED",
  "CERT_REJECTED",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "EPROTO",
  "ERR_SSL_WRONG_VERSION_NUMBER",
]);

const REFUSED_CODES = new Set(["ECONNREFUSED"]);
const UNREACHABLE_CODES = new Set(["EHOSTUNREACH", "ENETUNREACH", "EADDRNOTAVAIL", "ENOTFOUND", "EAI_AGAIN"]);
const RESET_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "ERR_STREAM_PREMATURE_CLOSE"]);

/**
 * How recently a keep-alive connection must have finished its last exchange to carry a
 * request that must not be repeated. A server closes idle connections only after its
 * keep-alive timeout (5 s for Node, more for BMC web servers), so one idle for less than
 * this is not being closed under the request: a reset on it means what a reset on a new
 * connection means. Older idle connections are not trusted with such requests. Not the
 * timeout a server announces (`Keep-Alive: timeout=5`) less a margin: a client stalled under
 * load sees a connection freed late, after the server's idle clock started; with 3 s trusted
 * of Node's 5, eight shards of a 2,000-DPU fleet on 2 cores got resets on logins and
 * updates the client could not repeat.
 */
export const RECENTLY_FREED_MS = 1_000;

/**
 * Connections this process keeps open to one port; further requests wait for one of them.
 * A BMC's web server answers one request at a time (bmcweb runs on one thread), so more
 * connections buy it no throughput, and each one costs a TLS handshake at both ends, the
 * BMC's small Arm cores included. The resources of one DPU change at once (the engine runs
 * them in parallel): with 8 a 500-DPU `up` opened 2,871 connections, 5.7 per port; with 2
 * it took a quarter less CPU in the provider and a fifth less in the emulator
 * (`bench/README.md`). Two, not one: a slow answer does not hold up every other request.
 */
export const MAX_CONNECTIONS_PER_PORT = 2;

const secureContexts = new Map<string, tls.SecureContext>();
/** Shared transports by URL and CA ({@link HttpsTransport.shared}). */
const sharedTransports = new Map<string, HttpsTransport>();

/**
 * One secure context per CA for the whole process: given only `ca`, every new TLS socket
 * would parse the CA and build a context again (the largest CPU cost of a fleet-wide
 * `up`), and every port of a fleet is usually signed by the same CA.
 */
function secureContextFor(caPem: string): tls.SecureContext {
  let context = secureContexts.get(caPem);
  if (!context) {
    context = tls.createSecureContext({ ca: caPem });
    secureContexts.set(caPem, context);
  }
  return context;
}

/** Sends HTTPS requests to one endpoint over a keep-alive agent that trusts only the given CA. */
export class HttpsTransport {
  private readonly agent: https.Agent;
  private readonly freedAt = new WeakMap<Socket, number>();
  private readonly base: URL;
  /** Clients using this transport ({@link HttpsTransport.shared}); idle connections close when the last one is done. */
  private users = 0;

  /**
   * The transport of `url` and `caPem` shared by every client of this process that talks
   * to that port (the managed account's, a factory login during a claim, the health
   * gate's): one pool of keep-alive connections instead of a TLS handshake per client.
   * Each user calls {@link HttpsTransport.close} once when done.
   */
  static shared(url: string, caPem: string): HttpsTransport {
    const key = `${url}\u0000${caPem}`;
    let transport = sharedTransports.get(key);
    if (!transport) sharedTransports.set(key, (transport = new HttpsTransport(url, caPem)));
    transport.sharedAs = key;
    transport.users++;
    return transport;
  }

  /** Its key among the shared transports, if it is one. */
  private sharedAs: string | undefined;

  /** `url` is the endpoint's base URL (`https://host:port`); `caPem` the CA that signed its certificate. */
  constructor(readonly url: string, caPem: string) {
    this.base = new URL(url);
    if (this.base.protocol !== "https:") {
      throw new ConnectionError("management ports are reached over HTTPS only", {
        uri: "/",
        endpoint: url,
        failure: "tls",
        requestMayHaveArrived: false,
      });
    }
    // rejectUnauthorized stays at its default (true): verification is never switched off.
    const secureContext = secureContextFor(caPem);
    // LIFO (Node's default): the next request takes the connection freed last.
    this.agent = new https.Agent({ secureContext, keepAlive: true, maxSockets: MAX_CONNECTIONS_PER_PORT, scheduling: "lifo" });
    this.agent.on("free", (socket: Socket) => this.freedAt.set(socket, Date.now()));
  }

  /**
   * The pool, made to open a new connection for a request that must not be repeated when
   * no pooled one answered recently: on a socket idle long enough for the server to close
   * it, a reset would leave it unknowable whether the request arrived. The idle ones are
   * closed (they are too old for such requests, and the new one joins the pool).
   */
  private agentFor(req: RawRequest): https.Agent {
    if (req.freshConnection && !this.hasRecentlyFreedConnection()) {
      for (const list of Object.values(this.agent.freeSockets)) for (const socket of list ?? []) socket.destroy();
    }
    return this.agent;
  }

  /** True when the keep-alive connection the next request would take was freed within {@link RECENTLY_FREED_MS}. */
  private hasRecentlyFreedConnection(): boolean {
    const free = Object.values(this.agent.freeSockets).flatMap((list) => list ?? []);
    const last = free[free.length - 1];
    const freed = last && !last.destroyed ? this.freedAt.get(last) : undefined;
    return freed !== undefined && Date.now() - freed < RECENTLY_FREED_MS;
  }

  /** Sends one request; resolves with any HTTP response, rejects only with `ConnectionError`. */
  send(req: RawRequest): Promise<RawResponse> {
    const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    const headers: Record<string, string> = { Accept: "application/json", ...req.headers };
    if (payload) {
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = String(payload.length);
    }
    return new Promise<RawResponse>((resolve, reject) => {
      let connected = false;
      let settled = false;
      const fail = (failure: ConnectionFailure, cause: unknown, mayHaveArrived: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(
          new ConnectionError(describe(failure), {
            uri: req.uri,
            endpoint: this.url,
            method: req.method,
            failure,
            requestMayHaveArrived: mayHaveArrived,
            cause,
          }),
        );
      };
      const request = https.request(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname,
          port: this.base.port,
          path: req.uri,
          method: req.method,
          headers,
          agent: this.agentFor(req),
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("error", (err) => fail("reset", err, true));
          response.on("end", () => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            resolve({
              status: response.statusCode ?? 0,
              headers: response.headers,
              body: parseBody(Buffer.concat(chunks).toString("utf8")),
            });
          });
        },
      );
      const timer = setTimeout(() => {
        fail("timeout", new Error(`no complete answer within ${req.timeoutMs} ms`), connected);
        request.destroy();
      }, req.timeoutMs);
      request.on("socket", (socket) => {
        // A reused keep-alive socket is already connected; a fresh one reports when TLS is up.
        if (!socket.connecting) connected = true;
        else
          socket.once("secureConnect", () => {
            connected = true;
          });
      });
      request.on("error", (err: NodeJS.ErrnoException) => {
        const { failure, mayHaveArrived } = classify(err, connected, request.reusedSocket);
        fail(failure, err, mayHaveArrived);
      });
      request.end(payload);
    });
  }

  /** One user is done: closes the keep-alive connections when it was the last (or the transport was never shared). */
  close(): void {
    if (this.users > 1) {
      this.users--;
      return;
    }
    this.users = 0;
    if (this.sharedAs !== undefined && sharedTransports.get(this.sharedAs) === this) sharedTransports.delete(this.sharedAs);
    this.agent.destroy();
  }
}

function classify(
  err: NodeJS.ErrnoException,
  connected: boolean,
  reusedSocket: boolean,
): { failure: ConnectionFailure; mayHaveArrived: boolean } {
  const code = err.code ?? "";
  if (TLS_CODES.has(code)) return { failure: "tls", mayHaveArrived: false };
  if (REFUSED_CODES.has(code)) return { failure: "refused", mayHaveArrived: false };
  if (UNREACHABLE_CODES.has(code)) return { failure: "unreachable", mayHaveArrived: false };
  if (RESET_CODES.has(code)) {
    // A keep-alive socket the server had already closed fails on first write (Node's
    // reusedSocket case): the request most likely never arrived, but that is not
    // certain, so only a reset before the socket was up counts as "not arrived".
    return { failure: "reset", mayHaveArrived: connected || reusedSocket };
  }
  // Checked after the reset codes: "socket disconnected before secure TLS connection was
  // established" is a reset (a port going down), not a certificate problem.
  if (/certificate|ssl/i.test(err.message)) return { failure: "tls", mayHaveArrived: false };
  return { failure: "other", mayHaveArrived: connected };
}

function describe(failure: ConnectionFailure): string {
  switch (failure) {
    case "refused":
      return "management port refused the connection";
    case "timeout":
      return "management port did not answer in time";
    case "reset":
      return "management port dropped the connection";
    case "tls":
      return "management port's TLS certificate was not accepted (verified against the configured CA)";
    case "unreachable":
      return "management port is unreachable";
    default:
      return "management port could not be reached";
  }
}

function parseBody(text: string): unknown {
  if (text === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
