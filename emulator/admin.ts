/**
 * The admin API (plain HTTP on a loopback address, bearer token): fault injection,
 * out-of-band drift, request counters and state dumps. See PROTOCOL.md "Admin API".
 */
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { ServiceError } from "./service-error";
import type { ManagementPorts, PortFaults } from "./port-server";
import { Router, type Params } from "./redfish/router";
import type { DriftChange, Simulation } from "./simulation";
import type { DpuState } from "./model";

type AdminHandler = (params: Params, body: Record<string, unknown>, query: URLSearchParams) => { status: number; body?: unknown };

/** A running admin API. */
export interface AdminServer {
  /** Base URL, `http://127.0.0.1:PORT`. */
  url: string;
  /** Closes it. */
  close(): Promise<void>;
}

function faultChange(body: Record<string, unknown>): Partial<PortFaults> {
  const change: Partial<PortFaults> = {};
  for (const key of Object.keys(body)) {
    if (!["portDown", "latencyMs", "errorRate"].includes(key)) throw new ServiceError(400, "PropertyUnknown", [key], `unknown fault '${key}'; faults: portDown, latencyMs, errorRate`);
  }
  if (body.portDown !== undefined) {
    if (typeof body.portDown !== "boolean") throw new ServiceError(400, "PropertyValueTypeError", [String(body.portDown), "portDown"], "portDown must be true or false");
    change.portDown = body.portDown;
  }
  if (body.latencyMs !== undefined) {
    if (typeof body.latencyMs !== "number" || body.latencyMs < 0 || body.latencyMs > 600_000) throw new ServiceError(400, "PropertyValueOutOfRange", [String(body.latencyMs), "latencyMs"], "latencyMs must be 0..600000");
    change.latencyMs = body.latencyMs;
  }
  if (body.errorRate !== undefined) {
    if (typeof body.errorRate !== "number" || body.errorRate < 0 || body.errorRate > 1) throw new ServiceError(400, "PropertyValueOutOfRange", [String(body.errorRate), "errorRate"], "errorRate must be 0..1");
    change.errorRate = body.errorRate;
  }
  return change;
}

function driftChange(body: Record<string, unknown>): DriftChange {
  const kind = body.kind;
  const id = (): string => {
    if (typeof body.id !== "string") throw new ServiceError(400, "PropertyMissing", ["id"], `drift '${String(kind)}' needs id`);
    return body.id;
  };
  switch (kind) {
    case "mode":
    case "hostPrivilege":
    case "hostname":
    case "osVersion":
      return { kind, value: body.value };
    case "deleteService":
    case "deleteDevice":
      return { kind, id: id() };
    case "failover":
      return { kind, id: id() };
    case "changeService":
      return {
        kind,
        id: id(),
        version: body.version as string | undefined,
        cores: body.cores as number | undefined,
        memoryGiB: body.memoryGiB as number | undefined,
        config: body.config as Record<string, unknown> | undefined,
        state: body.state as "Deploying" | "Enabled" | "Failed" | undefined,
      };
    default:
      throw new ServiceError(400, "PropertyValueNotInList", [String(kind), "kind"], "kind must be one of mode, hostPrivilege, hostname, osVersion, deleteService, deleteDevice, changeService, failover");
  }
}

/** The body of `PUT /admin/v1/oem-view`: `{ hidden: boolean }` and nothing else. */
function oemHiddenOf(body: Record<string, unknown>): boolean {
  for (const key of Object.keys(body)) if (key !== "hidden") throw new ServiceError(400, "PropertyUnknown", [key], `unknown property '${key}'; the OEM view takes only hidden`);
  if (typeof body.hidden !== "boolean") throw new ServiceError(400, "PropertyValueTypeError", [String(body.hidden), "hidden"], "hidden must be true or false");
  return body.hidden;
}

/** The `since` query parameter (clock ms), if given. */
function sinceOf(query: URLSearchParams): number | undefined {
  const raw = query.get("since");
  if (raw === null) return undefined;
  const since = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(since)) throw new ServiceError(400, "QueryParameterValueFormatError", [raw, "since"], "since must be a time in clock milliseconds");
  return since;
}

/**
 * A DPU document as the admin API shows it: no credential material. Accounts lose their
 * password hash; sessions show `fingerprint` (the SHA-256 of the token, in hex) instead of
 * the stored token hash field, so a test can check a token it holds against it and tell
 * whether some text holds a session token, while the dump itself holds none.
 */
export function publicState(doc: DpuState): Record<string, unknown> {
  return {
    ...doc,
    accounts: doc.accounts.map(({ passwordHash: _hash, ...account }) => account),
    sessions: doc.sessions.map(({ tokenHash: fingerprint, ...session }) => ({ ...session, fingerprint })),
  };
}

/** Builds the admin route table. */
function adminRouter(sim: Simulation, ports: ManagementPorts): Router<AdminHandler> {
  const disruptionLog: Partial<Record<"GET" | "DELETE", AdminHandler>> = {
    GET: (_p, _b, query) => ({ status: 200, body: sim.disruptions.list(sinceOf(query)) }),
    DELETE: () => {
      sim.disruptions.clear();
      return { status: 204 };
    },
  };
  const dump = (serial: string): unknown => ({
    serial,
    placement: { host: sim.placement(serial).host.name, nic: sim.placement(serial).nic.name },
    state: publicState(sim.docOf(serial)),
    healthy: sim.healthy(serial),
    freeCapacity: sim.offloads.freeCapacity(serial),
    faults: ports.faultsOf(serial),
    tasks: sim.tasksOf(serial),
  });
  return new Router<AdminHandler>()
    .on("/admin/v1/dpus", {
      GET: () => ({ status: 200, body: sim.serials().map((serial) => ({ serial, host: sim.placement(serial).host.name, nic: sim.placement(serial).nic.name, healthy: sim.healthy(serial) })) }),
    })
    .on("/admin/v1/dpus/{serial}/state", { GET: (p) => ({ status: 200, body: dump(p.serial) }) })
    .on("/admin/v1/oem-view", {
      GET: () => ({ status: 200, body: ports.oemView() }),
      PUT: (_p, b) => ({ status: 200, body: ports.setOemHidden(oemHiddenOf(b)) }),
    })
    .on("/admin/v1/dpus/{serial}/faults", {
      GET: (p) => {
        sim.placement(p.serial);
        return { status: 200, body: ports.faultsOf(p.serial) };
      },
      PUT: (p, b) => ({ status: 200, body: ports.setFaults(p.serial, faultChange(b)) }),
      PATCH: (p, b) => ({ status: 200, body: ports.setFaults(p.serial, faultChange(b)) }),
      DELETE: (p) => {
        ports.clearFaults(p.serial);
        return { status: 204 };
      },
    })
    .on("/admin/v1/dpus/{serial}/crash", {
      POST: (p) => {
        sim.faults.crash(p.serial);
        return { status: 200, body: dump(p.serial) };
      },
    })
    .on("/admin/v1/dpus/{serial}/recover", {
      POST: (p) => {
        sim.faults.recover(p.serial);
        return { status: 200, body: dump(p.serial) };
      },
    })
    .on("/admin/v1/dpus/{serial}/drift", {
      POST: (p, b) => {
        sim.faults.drift(p.serial, driftChange(b));
        return { status: 200, body: dump(p.serial) };
      },
    })
    .on("/admin/v1/dpus/{serial}/faults/services-fail-after-reboot", {
      POST: (p) => {
        sim.faults.failServicesAfterReboot(p.serial);
        return { status: 200, body: dump(p.serial) };
      },
      DELETE: (p) => {
        sim.faults.clearServicesFailAfterReboot(p.serial);
        return { status: 200, body: dump(p.serial) };
      },
    })
    .on("/admin/v1/disruptions", disruptionLog)
    .on("/admin/disruptions", disruptionLog)
    .on("/admin/v1/counters", {
      GET: () => ({ status: 200, body: ports.countersSnapshot() }),
      DELETE: () => {
        ports.resetCounters();
        return { status: 204 };
      },
    });
}

/** Starts the admin API on 127.0.0.1:`port` (0 picks a free port). */
export async function startAdminServer(sim: Simulation, ports: ManagementPorts, token: string, port: number): Promise<AdminServer> {
  const router = adminRouter(sim, ports);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= 1024 * 1024) chunks.push(c);
    });
    req.on("end", () => {
      let status = 200;
      let body: unknown;
      try {
        if (req.headers.authorization !== `Bearer ${token}`) throw new ServiceError(401, "AccessDenied", ["admin API"], "send Authorization: Bearer <DIR/admin-token>");
        if (size > 1024 * 1024) throw new ServiceError(413, "PayloadTooLarge", [], "body over 1 MiB");
        const url = new URL(req.url ?? "/", "http://admin");
        const match = router.match(req.method ?? "GET", url.pathname.replace(/\/+$/, ""));
        if (match.kind === "not-found") throw new ServiceError(404, "ResourceMissingAtURI", [url.pathname], `no admin resource at ${url.pathname}`);
        if (match.kind === "method-not-allowed") throw new ServiceError(405, "OperationNotAllowed", [], `allowed: ${match.allow.join(", ")}`);
        let parsed: Record<string, unknown> = {};
        if (chunks.length) {
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
          } catch {
            throw new ServiceError(400, "MalformedJSON", [], "the body is not valid JSON");
          }
        }
        ({ status, body } = match.handler(match.params, parsed ?? {}, url.searchParams));
      } catch (err) {
        status = err instanceof ServiceError ? err.status : 500;
        body = { error: { code: err instanceof ServiceError ? err.messageKey : "InternalError", message: err instanceof Error ? err.message : String(err) } };
      }
      const text = body === undefined ? "" : JSON.stringify(body);
      res.writeHead(status, body === undefined ? {} : { "Content-Type": "application/json; charset=utf-8", "Content-Length": String(Buffer.byteLength(text)) });
      res.end(text);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err) => reject(new Error(`cannot start the admin API on 127.0.0.1:${port}: ${err.message}`, { cause: err })));
    server.listen(port, "127.0.0.1", () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
