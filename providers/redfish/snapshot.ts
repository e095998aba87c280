/**
 * Port snapshots: one expanded read of a management port (`GET /redfish/v1?$expand=*`)
 * that answers the reads made right after it, instead of one request per resource.
 *
 * Only GETs made inside a pass may be answered from a snapshot, and each kind of pass
 * says which snapshots it accepts:
 * - {@link duringReadPass} (a provider `read`, i.e. a refresh): snapshots taken for
 *   refresh reads, up to {@link SNAPSHOT_TTL_MS} old; refreshing an unchanged DPU costs
 *   one request;
 * - {@link fromRecentSnapshot} (what a create or update decides on, and locating a port):
 *   a snapshot at most {@link RECENT_SNAPSHOT_MS} old, typically the one connecting took;
 * - {@link fromFreshSnapshot} (reading a DPU back after changing it): one taken for it.
 *
 * Any request that can change the port, from any client of this process, makes every
 * snapshot of that port stale.
 */
import { AsyncLocalStorage } from "node:async_hooks";

/**
 * How deep a snapshot reaches from the service root: Systems → system → Bios → Bios
 * settings, Managers → manager → VirtualMedia → CD, UpdateService → inventory → items,
 * the OEM collections' members, and the standard view down to Systems → DPU system →
 * OperatingSystem → Applications → each Application (the fifth level; volumes, network
 * device functions and host PCIe functions are linked from shallower places). A port
 * must advertise at least this `MaxLevels` (BlueField BMCs advertise 6).
 */
export const SNAPSHOT_LEVELS = 5;
/**
 * What one snapshot request asks for: every hyperlink (`*` includes `Links` and the
 * `@Redfish.Settings` annotation that leads to the pending Bios settings), that deep.
 */
export const SNAPSHOT_QUERY = `$expand=*($levels=${SNAPSHOT_LEVELS})`;
/**
 * How long a snapshot may answer reads. A refresh reads each resource once, all within
 * seconds of the others of the same DPU; the limit only keeps a long-lived process from
 * answering from an old picture.
 */
export const SNAPSHOT_TTL_MS = 30_000;

/**
 * How old a snapshot may be for {@link fromRecentSnapshot}: reads that decide what a
 * change does. The snapshot a connection just took qualifies; one from a while ago does
 * not, however untouched by this process.
 */
export const RECENT_SNAPSHOT_MS = 5_000;

/**
 * How long a snapshot taken for the pass `takenFor` (none: for recent reads) can answer
 * anyone but that pass: refresh snapshots serve every refresh read for
 * {@link SNAPSHOT_TTL_MS}; any other only recent reads, for {@link RECENT_SNAPSHOT_MS}.
 * Held longer, it is memory that answers nothing.
 */
export function sharedLifetimeMs(takenFor?: object): number {
  return takenFor === REFRESH_PASS ? SNAPSHOT_TTL_MS : RECENT_SNAPSHOT_MS;
}

type Body = Record<string, unknown>;

/** What reads inside a pass may do with snapshots. */
export interface ReadPassRules {
  /** Take a snapshot when none is held (else only reuse one). */
  take: boolean;
  /** The oldest snapshot that may answer. */
  maxAgeMs: number;
  /** Only a snapshot taken for this pass (kind of pass) may answer; any when absent. */
  pass?: object;
}

const readPass = new AsyncLocalStorage<ReadPassRules>();
/** Refresh reads share the snapshots taken for refresh reads, and no others. */
const REFRESH_PASS = {};

/** Runs `fn` as a read pass (a refresh): its GETs are answered from port snapshots taken for refresh reads, as needed. */
export function duringReadPass<T>(fn: () => Promise<T>): Promise<T> {
  return readPass.run({ take: true, maxAgeMs: SNAPSHOT_TTL_MS, pass: REFRESH_PASS }, fn);
}

/**
 * Runs `fn` with its GETs answered from a snapshot only when one was taken in the last
 * {@link RECENT_SNAPSHOT_MS} and nothing was written since (typically the one locating
 * the port just took); otherwise they go to the port. With `take`, a snapshot is taken
 * when none qualifies (for finding where resources are, which never goes stale);
 * without it none is: while a change writes, snapshots would be invalidated as fast as
 * they are taken. Inside {@link duringReadPass} the pass's rules apply.
 */
export function fromRecentSnapshot<T>(fn: () => Promise<T>, opts: { take?: boolean } = {}): Promise<T> {
  return readPass.getStore() ? fn() : readPass.run({ take: opts.take === true, maxAgeMs: RECENT_SNAPSHOT_MS }, fn);
}

/**
 * Runs `fn` with its GETs answered from one snapshot taken for it: reading a whole DPU
 * after a change costs one request instead of one per resource, and sees the port as it
 * is now (no snapshot held from before is used). Inside {@link duringReadPass} the
 * pass's rules apply.
 */
export function fromFreshSnapshot<T>(fn: () => Promise<T>): Promise<T> {
  return readPass.getStore() ? fn() : readPass.run({ take: true, maxAgeMs: SNAPSHOT_TTL_MS, pass: {} }, fn);
}

/** Runs `fn` with its GETs sent to the port, whatever pass the caller runs in: reads that must see the port now. */
export function outsideReadPass<T>(fn: () => Promise<T>): Promise<T> {
  return readPass.exit(fn);
}

/** The rules of the read pass the caller runs in, if any. */
export function readPassRules(): ReadPassRules | undefined {
  return readPass.getStore();
}

/** Writes sent per endpoint in this process: a snapshot taken before the last write is stale. */
const writeGenerations = new Map<string, number>();

/** Records that a request that may change the port was sent to `endpoint`. */
export function noteWrite(endpoint: string): void {
  writeGenerations.set(endpoint, (writeGenerations.get(endpoint) ?? 0) + 1);
}

/** How many writes this process sent to `endpoint`: a read taken at an older generation may be stale. */
export function writeGeneration(endpoint: string): number {
  return writeGenerations.get(endpoint) ?? 0;
}

/** Every resource of one expanded answer, by URI. */
export class PortSnapshot {
  /** The service root as the expanded answer had it. */
  readonly root: Body;
  private readonly resources = new Map<string, Body>();
  private readonly generation: number;

  /**
   * Indexes an expanded service root taken at `takenAt` (clock ms). Every object with an
   * `@odata.id` and anything besides it is a resource the port inlined.
   */
  constructor(
    private readonly endpoint: string,
    root: Body,
    private readonly takenAt: number,
    /** The pass it was taken for, if that pass wanted a snapshot of its own. */
    private readonly takenFor?: object,
  ) {
    this.root = root;
    this.generation = writeGeneration(endpoint);
    this.index(root);
  }

  /**
   * True when the snapshot may answer reads under `rules` at `now`: nothing was written
   * to the port since it was taken, it is young enough, and taken for that kind of pass.
   */
  serves(rules: ReadPassRules, now: number): boolean {
    const unchanged = this.generation === writeGeneration(this.endpoint);
    return unchanged && now - this.takenAt < rules.maxAgeMs && (rules.pass === undefined || this.takenFor === rules.pass);
  }

  /** The service root with every inlined resource reduced to its link, as a plain GET returns it. */
  plainRoot(): Body {
    return linksOnly(this.root, true) as Body;
  }

  /**
   * The resource at `uri` as a GET would return it, or undefined when the snapshot does
   * not hold it. A collection's members are returned expanded, as `$expand=.` would, when
   * the snapshot holds them all. Only `$expand` queries are understood; any other query
   * misses.
   */
  lookup(uri: string): { body: Body; etag?: string } | undefined {
    const [path, query] = splitQuery(uri);
    if (query !== undefined && !/^\$expand=[^&]*$/.test(query)) return undefined;
    const body = this.resources.get(normalise(path));
    if (!body) return undefined;
    const etag = typeof body["@odata.etag"] === "string" ? body["@odata.etag"] : undefined;
    if (!Array.isArray(body.Members)) return { body, etag };
    const members = body.Members.map((m) => this.resources.get(normalise(String((m as Body)?.["@odata.id"] ?? ""))));
    if (members.some((m) => m === undefined)) return { body, etag };
    return { body: { ...body, Members: members }, etag };
  }

  private index(value: unknown): void {
    if (Array.isArray(value)) {
      for (const item of value) this.index(item);
      return;
    }
    if (!value || typeof value !== "object") return;
    const body = value as Body;
    const id = body["@odata.id"];
    if (typeof id === "string" && !id.includes("#") && Object.keys(body).some((k) => k !== "@odata.id")) {
      this.resources.set(normalise(id), body);
    }
    for (const [key, item] of Object.entries(body)) if (key !== "@odata.id") this.index(item);
  }
}

function linksOnly(value: unknown, top = false): unknown {
  if (Array.isArray(value)) return value.map((v) => linksOnly(v));
  if (!value || typeof value !== "object") return value;
  const body = value as Body;
  if (!top && typeof body["@odata.id"] === "string" && !body["@odata.id"].includes("#")) return { "@odata.id": body["@odata.id"] };
  return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, linksOnly(v)]));
}

function splitQuery(uri: string): [string, string | undefined] {
  const at = uri.indexOf("?");
  return at < 0 ? [uri, undefined] : [uri.slice(0, at), uri.slice(at + 1)];
}

function normalise(path: string): string {
  return path.replace(/\/+$/, "") || "/";
}
