/**
 * The live half of `smartfleet plan`: one snapshot read per port (`GET
 * /redfish/v1?$expand=*($levels=5)`, through the providers' Redfish client in a read pass)
 * gives the DPU's mode, host privilege and NIC firmware, its DPU OS, the OS of the host
 * behind it, and the active side of each service pair whose primary it is. Every managed
 * DPU is read while the preview runs; after a `--refresh` preview only those with a create
 * (the adoption of hardware that may differ from the stack). Nothing is written: the read
 * uses Basic authentication (no session), with the stack's management password, else the
 * DPU's factory password; a DPU still on its factory password shows nothing but its own
 * account until that password is changed, so its inventory factory state stands in
 * (`source: "factory"`).
 */
import * as https from "node:https";
import type { DpuTarget } from "../../schemas/generated/common";
import type { LiveDpu } from "../../policies/plan/plan";
import { endpointUrl } from "../../providers/common/dpu";
import { pairName } from "../../providers/rollout/pairs";
import { asRecord, ConnectionError, duringReadPass, locate, OperationTimeoutError, readDpu, RedfishClient, RedfishError, withFirstAcceptedPassword } from "../../providers/redfish";

/** One DPU to read. */
export interface LiveTarget {
  /** `host/nic`. */
  id: string;
  target: DpuTarget;
  username: string;
  /** Passwords to try, in order (the management password, then the factory one). */
  passwords: string[];
}

/** A port that could not be read: names the DPU, its host and the URL. */
export class PortUnreachableError extends Error {}

/** Reads each DPU once (in parallel); the answer by `host/nic`, and how many requests each port got. */
export async function readLive(targets: LiveTarget[], caPem: string, opts: { callTimeoutMs?: number } = {}): Promise<{ live: Record<string, LiveDpu>; requests: Record<string, number> }> {
  const live: Record<string, LiveDpu> = {};
  const requests: Record<string, number> = {};
  await Promise.all(
    targets.map(async (t) => {
      const url = endpointUrl(t.target);
      requests[t.id] = 0;
      const options = { callTimeoutMs: opts.callTimeoutMs ?? 15_000, operationTimeoutMs: 30_000, retries: 1 };
      try {
        live[t.id] = await withFirstAcceptedPassword({ url, caPem, username: t.username }, t.passwords, options, (client) => duringReadPass(() => readOne(client)), (n) => (requests[t.id] += n));
      } catch (error) {
        if (error instanceof ConnectionError || error instanceof OperationTimeoutError || (error instanceof RedfishError && error.status === undefined)) {
          throw new PortUnreachableError(`${t.id} (${t.target.serial}) at ${url} is unreachable: ${(error as Error).message}`);
        }
        // 403: the port shows nothing but its own account until the factory password is changed.
        if (error instanceof RedfishError && error.status === 403) live[t.id] = { source: "factory" };
        else if (error instanceof RedfishError) throw new PortUnreachableError(`${t.id} (${t.target.serial}) at ${url}: reading the port failed: ${error.message}`);
        else throw new PortUnreachableError(`${t.id} (${t.target.serial}) at ${url} is unreachable: ${(error as Error).message}`);
      }
    }),
  );
  return { live, requests };
}

async function readOne(client: RedfishClient): Promise<LiveDpu> {
  const facts = await readDpu(client);
  const where = await locate(client);
  let dpuOs: LiveDpu["dpuOs"] = null;
  if (where.oem.dpuOs) {
    const body = asRecord((await client.get<Record<string, unknown>>(where.oem.dpuOs)).body);
    const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : null);
    dpuOs = { image: text(body.Image), version: text(body.Version) };
  }
  return { source: "port", mode: facts.mode, hostPrivilege: facts.hostPrivilege, firmware: facts.firmware.nic, dpuOs, hostOs: facts.hostOs, pairs: await activeSides(client, where.oem.servicePairs) };
}

/** The active side of each pair this port holds (a pair lives on its primary's port), by pair name. */
async function activeSides(client: RedfishClient, collection: string | undefined): Promise<Record<string, string>> {
  if (!collection) return {};
  const members = await client.getCollection<Record<string, unknown>>(collection);
  return Object.fromEntries(members.map((m) => [pairName(m), String(m.body.ActiveSide ?? "")]));
}

/**
 * After a failed preview: which ports do not answer (one unauthenticated read of the
 * service root each, which changes nothing), as `host/nic (serial) at URL: why`.
 */
export async function unreachablePorts(targets: Array<{ id: string; target: DpuTarget }>, caPem: string, timeoutMs = 5_000): Promise<string[]> {
  const found = await Promise.all(
    targets.map(
      (t) =>
        new Promise<string | undefined>((resolve) => {
          const url = endpointUrl(t.target);
          const req = https.get(`${url}/redfish/v1`, { ca: caPem, agent: false, timeout: timeoutMs }, (res) => {
            res.resume();
            resolve(res.statusCode && res.statusCode < 500 ? undefined : `${t.id} (${t.target.serial}) at ${url} answers ${res.statusCode}`);
          });
          req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
          req.on("error", (e) => resolve(`${t.id} (${t.target.serial}) at ${url} is unreachable: ${e.message}`));
        }),
    ),
  );
  return found.filter((x): x is string => x !== undefined);
}
