/**
 * The dashboard's HTTP server (node:http, no framework): the page and its assets, the
 * fleet state as JSON, a server-sent event stream of every new state, the topology SVG
 * and the rollout plan. Every request must carry the token printed with the URL — as
 * `?token=`, `Authorization: Bearer`, or the cookie the page gets when opened with it —
 * or is answered 401 (none given) or 403 (a wrong one), as notebook servers do: anyone
 * else on the machine can reach a loopback port.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import type { TopologyDrawings } from "./draw";
import type { FleetState } from "./fleet-state";
import type { FleetMonitor } from "./monitor";
import type { PlanRunner } from "./rollout-plan";

export interface DashboardOptions {
  monitor: FleetMonitor;
  /** The topology drawings: the whole fleet or one cluster, laid out when first asked for. */
  drawings: TopologyDrawings;
  plan: PlanRunner;
  host: string;
  /** 0: any free port. */
  port: number;
  /** The access token; a random one when absent. */
  token?: string;
  /** Seconds between keep-alive comments on an idle event stream. */
  keepAliveSeconds?: number;
}

export interface RunningDashboard {
  /** The URL to open, token included. */
  url: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

/** Where the page's files are: beside this module in the sources, or in the sources from dist/. */
export function assetsDir(): string {
  const candidates = [path.join(__dirname, "assets"), path.resolve(__dirname, "..", "..", "..", "cli", "dashboard", "assets")];
  const found = candidates.find((dir) => fs.existsSync(path.join(dir, "index.html")));
  if (!found) throw new Error(`the dashboard's page is missing: no index.html in ${candidates.join(" or ")}`);
  return found;
}

const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml" };

/** Headers of every answer: nothing cached (the token is in URLs), nothing fetched from elsewhere, no referrer. */
const COMMON_HEADERS = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  // The topology and plan drawings bring their own <style> elements, hence inline styles.
  "content-security-policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'",
};

/** Starts the server; resolves once it listens. */
export async function startDashboard(opts: DashboardOptions): Promise<RunningDashboard> {
  const token = opts.token ?? randomBytes(24).toString("base64url");
  const dir = assetsDir();
  // Only the files there at start are served: no path from a request ever reaches the file system.
  const assets = new Map(fs.readdirSync(dir).filter((f) => TYPES[path.extname(f)]).map((f) => [f, fs.readFileSync(path.join(dir, f))]));
  const streams = new Set<http.ServerResponse>();
  // Each state is serialized once, however many pages and API calls read it (1.5 MB at 1,000 DPUs).
  const serialized = new WeakMap<FleetState, string>();
  const json = (state: FleetState): string => {
    let text = serialized.get(state);
    if (text === undefined) serialized.set(state, (text = JSON.stringify(state)));
    return text;
  };
  let cookieName = "smartfleet_dashboard";

  const server = http.createServer((req, res) => {
    handle(req, res).catch((error) => {
      if (!res.headersSent) send(res, 500, { error: String((error as Error)?.message ?? error) });
      else res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://dashboard");
    const given = url.searchParams.get("token") ?? bearer(req) ?? cookie(req, cookieName);
    if (given === undefined) return send(res, 401, { error: "this dashboard needs the token printed with its URL (?token=...)" });
    if (!sameToken(given, token)) return send(res, 403, { error: "wrong token" });
    const route = `${req.method} ${url.pathname}`;
    if (route === "GET /" || route === "GET /index.html") {
      // The page's own requests (assets, API, event stream) then carry the token as a cookie of this port.
      res.setHeader("set-cookie", `${cookieName}=${token}; HttpOnly; SameSite=Strict; Path=/`);
      return sendFile(res, "index.html");
    }
    if (req.method === "GET" && url.pathname.startsWith("/assets/")) return sendFile(res, url.pathname.slice("/assets/".length));
    if (route === "GET /api/state") return sendBody(res, 200, "application/json; charset=utf-8", json(opts.monitor.current()));
    if (route === "GET /api/events") return openStream(req, res);
    if (route === "GET /api/topology") return send(res, 200, opts.drawings.views);
    if (route === "GET /api/topology.svg") {
      const view = url.searchParams.get("view") ?? "fleet";
      const drawing = opts.drawings.svg(view);
      if (!drawing) return send(res, 404, { error: `no such view of the topology: ${view} (views: GET /api/topology)` });
      return sendBody(res, 200, TYPES[".svg"], await drawing);
    }
    if (route === "GET /api/plan") {
      // null until one is computed (POST): not a 404, which a browser would log as an error.
      return send(res, 200, opts.plan.latest() ?? null);
    }
    if (route === "POST /api/plan") return send(res, 200, await opts.plan.compute());
    return send(res, 404, { error: `no such resource: ${req.method} ${url.pathname}` });
  }

  function sendFile(res: http.ServerResponse, name: string): void {
    const body = assets.get(name);
    if (!body) return send(res, 404, { error: `no such asset: ${name}` });
    sendBody(res, 200, TYPES[path.extname(name)], body);
  }

  /** A server-sent event stream: the current state at once, then every new one, and the ports' events streamed between refreshes. */
  function openStream(req: http.IncomingMessage, res: http.ServerResponse): void {
    res.writeHead(200, { ...COMMON_HEADERS, "content-type": "text/event-stream; charset=utf-8", connection: "keep-alive" });
    // The browser reconnects after 2 s when the stream breaks.
    res.write("retry: 2000\n\n");
    streams.add(res);
    const push = (state: FleetState) => res.write(`event: state\nid: ${state.version}\ndata: ${json(state)}\n\n`);
    const unsubscribe = opts.monitor.subscribe(push);
    const unsubscribeEvents = opts.monitor.subscribeEvents((events) => res.write(`event: port-events\ndata: ${JSON.stringify(events)}\n\n`));
    const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), (opts.keepAliveSeconds ?? 15) * 1000);
    req.on("close", () => {
      unsubscribe();
      unsubscribeEvents();
      clearInterval(keepAlive);
      streams.delete(res);
    });
    push(opts.monitor.current());
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  cookieName = `smartfleet_dashboard_${port}`;
  const shownHost = opts.host.includes(":") ? `[${opts.host}]` : opts.host;
  return {
    url: `http://${shownHost}:${port}/?token=${token}`,
    token,
    port,
    close: async () => {
      for (const res of streams) res.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  sendBody(res, status, "application/json; charset=utf-8", JSON.stringify(body));
}

function sendBody(res: http.ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { ...COMMON_HEADERS, "content-type": type, "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function bearer(req: http.IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  return header?.startsWith("Bearer ") ? header.slice("Bearer ".length) : undefined;
}

function cookie(req: http.IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return undefined;
}

/** Compares in constant time, so the answer's timing tells nothing about the token. */
function sameToken(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
