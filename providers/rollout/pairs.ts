/**
 * Planned failover of a host's service pairs around a disruption: a pair whose active side
 * is a DPU about to restart moves to its other side first, and back to its primary once
 * the host passed its health gate. A pair lives on its primary's port (`ServicePairs`, the
 * member `Id` is the pair's name); the switch is the pair's `SmartFleetServicePair.SwitchOver`
 * action when the port advertises it, else a PATCH of `ActiveSide` (what `ServicePair`
 * itself does to restore protection).
 */
import { asRecord, RedfishError } from "../redfish";
import type { DpuConnection } from "../common/dpu";
import { followTask } from "../common/dpu";
import { readMemberAt, type LiveMember } from "../common/members";

/** A pair as its primary's port shows it. */
export interface LivePair {
  /** The pair's name. */
  name: string;
  /** The primary's port. */
  connection: DpuConnection;
  /** Its member. */
  member: LiveMember;
  /** `primary` or `secondary`. */
  activeSide: string;
  /** Both sides running and the primary serving. */
  protected: boolean;
  /** `Deploying`, `Enabled`, `Failed`. */
  state: string;
}

/** The pairs among `names` whose primary is one of `connections` (read from the port, no snapshot). */
export async function pairsOn(connections: readonly DpuConnection[], names: readonly string[]): Promise<LivePair[]> {
  if (names.length === 0) return [];
  const found: LivePair[] = [];
  for (const connection of connections) {
    const collection = connection.where.oem.servicePairs;
    if (!collection) continue;
    for (const m of await connection.client.getCollection<Record<string, unknown>>(collection)) {
      const pair = livePair(connection, { uri: m.uri, body: asRecord(m.body), etag: m.etag });
      if (names.includes(pair.name)) found.push(pair);
    }
  }
  return found;
}

/** A `ServicePairs` member's pair name: its `Id`, else its `Name`, else its URI's last segment. */
export function pairName(member: Pick<LiveMember, "uri" | "body">): string {
  return String(member.body.Id ?? member.body.Name ?? member.uri.split("/").pop());
}

/** The pair as its member body says. */
export function livePair(connection: DpuConnection, member: LiveMember): LivePair {
  const b = member.body;
  return {
    name: pairName(member),
    connection,
    member,
    activeSide: String(b.ActiveSide ?? ""),
    protected: b.Protected === true,
    state: String(b.State ?? ""),
  };
}

/** Makes `side` the pair's active side; answers the pair as read back. */
export async function switchPair(pair: LivePair, side: "primary" | "secondary", why: string): Promise<LivePair> {
  const { connection, member } = pair;
  console.error(`smartfleet: pair ${pair.name}: switching over to its ${side} ${why}`);
  const action = asRecord(asRecord(member.body.Actions)["#SmartFleetServicePair.SwitchOver"]).target;
  try {
    if (typeof action === "string") {
      const started = await connection.client.post(action, { ActiveSide: side });
      await followTask(connection, started.location, `switching pair ${pair.name} over to its ${side}`);
    } else {
      await connection.client.patch(member.uri, { ActiveSide: side }, member.etag);
    }
  } catch (error) {
    if (error instanceof RedfishError) throw new Error(`switching pair ${pair.name} over to its ${side}: ${error.message}`, { cause: error });
    throw error;
  }
  const after = await readMemberAt(connection, member.uri);
  if (!after) throw new Error(`pair ${pair.name} is gone from ${connection.label} after switching it over`);
  return livePair(connection, after);
}
