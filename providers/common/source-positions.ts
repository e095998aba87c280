/**
 * Remembers the source positions Pulumi's SDK computes for each resource. Every resource's
 * constructor calls `Resource.callsites()`, which formats a full stack trace (every frame
 * run through `source-map-support`, which the SDK's program runner installs) and parses
 * the file, line and column back out of it: about 230 µs per resource, 0.4 s of CPU for a
 * 250-DPU shard's program and 3 s for a 2,000-DPU stack's, although a program declaring a
 * fleet from one loop asks for the same few stacks over and over.
 *
 * The remembered answer is keyed by the raw frames (V8's own text of each call site,
 * which names its function, file, line and column; no source map is read for it), so a
 * different call path is a different entry and the answer is the SDK's own for that path.
 */
import * as pulumi from "@pulumi/pulumi";

/** A frame as the SDK returns it: empty when the frame has no position. */
type Frame = { file?: string; line?: number; column?: number };

/** Distinct call paths remembered; a program declaring from a loop has a handful. */
const MAX_PATHS = 256;

interface ResourceStatics {
  callsites(): Frame[];
}

/**
 * Installs the memory on `Resource.callsites` (once). `SMARTFLEET_SDK_SOURCE_POSITIONS=1`
 * leaves the SDK's own, computing every position afresh.
 */
export function rememberSourcePositions(env: NodeJS.ProcessEnv = process.env, resource: ResourceStatics = pulumi.Resource as unknown as ResourceStatics): void {
  if (env.SMARTFLEET_SDK_SOURCE_POSITIONS === "1") return;
  const original = resource.callsites as ResourceStatics["callsites"] & { remembering?: true };
  if (original.remembering) return;
  const known = new Map<string, Frame[]>();
  const remembering = function callsites(this: unknown): Frame[] {
    const key = rawStack();
    let frames = known.get(key);
    if (!frames) {
      // The SDK's function sees one frame more than it would (this one, below its own):
      // drop it, so the answer is the frames the SDK would return if called directly.
      frames = original.call(this);
      frames.splice(1, 1);
      if (known.size >= MAX_PATHS) known.clear();
      known.set(key, frames);
    }
    return frames.slice();
  };
  resource.callsites = Object.assign(remembering, { remembering: true as const });
}

/** The caller's stack as V8 formats it, without anything installed in `Error.prepareStackTrace`. */
function rawStack(): string {
  const limit = Error.stackTraceLimit;
  const prepare = Error.prepareStackTrace;
  try {
    Error.stackTraceLimit = Number.POSITIVE_INFINITY;
    Error.prepareStackTrace = (_error, sites) => sites.map(String).join("\n");
    return new Error().stack as string;
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
}
