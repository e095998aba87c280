/**
 * Engine events as progress lines: one line when a resource's step starts and one when it
 * ends (or fails), with the time since the operation began and how long the step took; a
 * preview prints one line per planned change. Steps that change nothing (`same`, a refresh
 * that found the resource as recorded) are counted, not printed: on a fleet of thousands
 * of resources the lines are the changes.
 */
import type { EngineEvent, StepEventMetadata } from "@pulumi/pulumi/automation";

/** What an operation did, counted from its events. */
export interface Tally {
  /** Steps by operation (`create`, `update`, `same`, ...), as the engine reports them. */
  byOp: Record<string, number>;
  /** Resources whose step failed. */
  failed: number;
  /** Error diagnostics, each with the resource it is about when it names one. */
  errors: string[];
}

/** Operations that change nothing. */
const UNCHANGED = new Set(["same", "read", "refresh"]);

/** Present and past tense of each step operation, for the lines. */
const VERBS: Record<string, [string, string]> = {
  create: ["creating", "created"],
  update: ["updating", "updated"],
  delete: ["deleting", "deleted"],
  replace: ["replacing", "replaced"],
  "create-replacement": ["creating replacement", "created replacement"],
  "delete-replaced": ["deleting replaced", "deleted replaced"],
  refresh: ["refreshing", "refreshed"],
  import: ["importing", "imported"],
  discard: ["discarding", "discarded"],
};

const PREVIEW_MARKS: Record<string, string> = { create: "+", update: "~", delete: "-", replace: "+-", "create-replacement": "++", "delete-replaced": "--" };

/** Turns engine events into lines and a tally. */
export class Progress {
  readonly tally: Tally = { byOp: {}, failed: 0, errors: [] };
  private readonly started = new Map<string, number>();
  private readonly t0 = Date.now();

  /** `emit` receives each line (without newline). */
  constructor(private readonly emit: (line: string) => void) {}

  /** Handles one engine event. */
  onEvent(event: EngineEvent): void {
    if (event.resourcePreEvent) this.pre(event.resourcePreEvent.metadata, event.resourcePreEvent.planning === true);
    else if (event.resOutputsEvent) this.done(event.resOutputsEvent.metadata, event.resOutputsEvent.planning === true);
    else if (event.resOpFailedEvent) this.failed(event.resOpFailedEvent.metadata);
    else if (event.diagnosticEvent && event.diagnosticEvent.severity === "error") {
      const d = event.diagnosticEvent;
      const message = d.message.replace(/\s+$/, "");
      this.tally.errors.push(d.urn ? `${nameOf(d.urn)}: ${message}` : message);
    }
  }

  /** How many steps changed something. */
  changed(): number {
    return Object.entries(this.tally.byOp).reduce((n, [op, count]) => n + (UNCHANGED.has(op) ? 0 : count), 0);
  }

  /** Unchanged steps. */
  unchanged(): number {
    return Object.entries(this.tally.byOp).reduce((n, [op, count]) => n + (UNCHANGED.has(op) ? count : 0), 0);
  }

  private pre(meta: StepEventMetadata, planning: boolean): void {
    if (isStackResource(meta)) return;
    if (planning) {
      // A preview's step is complete when planned: count and print it here.
      this.count(meta);
      if (!UNCHANGED.has(meta.op)) this.emit(`${(PREVIEW_MARKS[meta.op] ?? meta.op).padEnd(2)} ${meta.op.padEnd(8)} ${label(meta)}${diffs(meta)}`);
      return;
    }
    this.started.set(meta.urn, Date.now());
    if (!UNCHANGED.has(meta.op)) this.emit(`${this.clock()} ${(VERBS[meta.op]?.[0] ?? meta.op).padEnd(10)} ${label(meta)}${diffs(meta)}`);
  }

  private done(meta: StepEventMetadata, planning: boolean): void {
    if (planning || isStackResource(meta)) return;
    this.count(meta);
    const took = this.took(meta.urn);
    // A refresh reports every resource as `refresh`; only one whose live state differs is news.
    if (meta.op === "refresh" && !(meta.diffs ?? []).length) return;
    if (!UNCHANGED.has(meta.op) || meta.op === "refresh") this.emit(`${this.clock()} ${(VERBS[meta.op]?.[1] ?? meta.op).padEnd(10)} ${label(meta)}${diffs(meta)}${took}`);
  }

  private failed(meta: StepEventMetadata): void {
    if (isStackResource(meta)) return;
    this.tally.failed += 1;
    this.emit(`${this.clock()} ${"failed".padEnd(10)} ${label(meta)} (${meta.op})${this.took(meta.urn)}`);
  }

  private count(meta: StepEventMetadata): void {
    this.tally.byOp[meta.op] = (this.tally.byOp[meta.op] ?? 0) + 1;
  }

  private took(urn: string): string {
    const since = this.started.get(urn);
    return since === undefined ? "" : ` in ${((Date.now() - since) / 1000).toFixed(1)}s`;
  }

  private clock(): string {
    return `[${((Date.now() - this.t0) / 1000).toFixed(1).padStart(6)}s]`;
  }
}

/** The resource's own name: the last part of its URN. */
export function nameOf(urn: string): string {
  return urn.slice(urn.lastIndexOf("::") + 2);
}

/** `name (Kind)`: the kind is the type token's last part (`pulumi-nodejs:dynamic/smartfleet:SmartNic` → SmartNic). */
function label(meta: StepEventMetadata): string {
  return `${nameOf(meta.urn)} (${meta.type.slice(meta.type.lastIndexOf(":") + 1)})`;
}

function diffs(meta: StepEventMetadata): string {
  const keys = meta.diffs ?? [];
  return keys.length ? ` [${keys.slice(0, 6).join(", ")}${keys.length > 6 ? ", …" : ""}]` : "";
}

function isStackResource(meta: StepEventMetadata): boolean {
  return meta.type === "pulumi:pulumi:Stack" || meta.type.startsWith("pulumi:providers:");
}
