/**
 * The `$expand` query parameter as DSP0266 (clause "Query parameters") defines it:
 * `.` expands the hyperlinks outside `Links`, `~` those inside `Links`, `*` all of them
 * including the ones in payload annotations (`@Redfish.Settings.SettingsObject`), each
 * optionally cascading `($levels=n)` levels deep.
 *
 * Expansion is breadth first and expands each resource once per answer (at its
 * shallowest place; later references to it stay references), so `*` cannot loop through
 * `Links` cycles and the answer stays bounded by the port's own resources.
 */
import { ServiceError } from "../service-error";

/** The deepest `$levels` this service accepts (advertised as `ExpandQuery.MaxLevels`). */
export const MAX_EXPAND_LEVELS = 6;

/** Which hyperlinks to expand and how deep. */
export interface ExpandRequest {
  /** `.` outside `Links`, `~` inside `Links`, `*` everywhere including annotations. */
  which: "." | "~" | "*";
  /** Levels to cascade (1 = only the hyperlinks of the requested resource). */
  levels: number;
}

type Body = Record<string, unknown>;
/** An object or array whose entries can be replaced by key or index. */
type Slots = Record<string | number, unknown>;

/**
 * Parses a `$expand` value; throws 400 `QueryParameterValueFormatError` for a form this
 * service does not know, 400 `QueryParameterOutOfRange` for `$levels` above the maximum.
 */
export function parseExpand(value: string): ExpandRequest {
  const m = /^([.~*])(?:\(\$levels=(\d+)\))?$/.exec(value);
  if (!m) {
    throw new ServiceError(400, "QueryParameterValueFormatError", [value, "$expand"], "$expand takes ., ~ or *, optionally with ($levels=n)");
  }
  const levels = m[2] === undefined ? 1 : Number(m[2]);
  if (levels < 1 || levels > MAX_EXPAND_LEVELS) {
    throw new ServiceError(400, "QueryParameterOutOfRange", [String(levels), "$levels", `1-${MAX_EXPAND_LEVELS}`], `$levels must be between 1 and ${MAX_EXPAND_LEVELS}`);
  }
  return { which: m[1] as ExpandRequest["which"], levels };
}

/**
 * Returns a copy of `body` with its hyperlinks expanded. `read(uri)` answers a resource
 * as a GET would (with its `@odata.etag`) as a copy of its own, which the expansion
 * changes in place, or undefined where the caller may not see it or it does not exist:
 * that hyperlink stays a reference.
 */
export function expandResource(body: Body, request: ExpandRequest, read: (uri: string) => Body | undefined): Body {
  const top = JSON.parse(JSON.stringify(body)) as Body;
  const seen = new Set<string>([normalise(String(top["@odata.id"] ?? ""))]);
  let frontier: Body[] = [top];
  for (let level = 0; level < request.levels && frontier.length > 0; level++) {
    const next: Body[] = [];
    for (const resource of frontier) {
      forEachHyperlink(resource, request.which, (holder, key) => {
        const uri = String((holder[key] as Body)["@odata.id"]);
        if (seen.has(normalise(uri))) return;
        const target = read(uri);
        if (!target) return;
        seen.add(normalise(uri));
        holder[key] = target;
        next.push(target);
      });
    }
    frontier = next;
  }
  return top;
}

/** Calls `visit(holder, key)` for every reference (`{ "@odata.id" }` alone) `which` selects. */
function forEachHyperlink(resource: Body, which: ExpandRequest["which"], visit: (holder: Slots, key: string | number) => void): void {
  const walk = (value: unknown, inLinks: boolean, inAnnotation: boolean): void => {
    if (Array.isArray(value)) {
      value.forEach((item, i) => (isReference(item) ? consider(value as unknown as Slots, i, inLinks, inAnnotation) : walk(item, inLinks, inAnnotation)));
      return;
    }
    if (!value || typeof value !== "object") return;
    for (const [key, item] of Object.entries(value as Body)) {
      if (key === "@odata.id") continue;
      const links = inLinks || key === "Links";
      const annotation = inAnnotation || key.includes("@");
      if (isReference(item)) consider(value as Slots, key, links, annotation);
      else walk(item, links, annotation);
    }
  };
  const consider = (holder: Slots, key: string | number, inLinks: boolean, inAnnotation: boolean): void => {
    const wanted = which === "*" || (which === "." ? !inLinks && !inAnnotation : inLinks && !inAnnotation);
    if (wanted) visit(holder, key);
  };
  walk(resource, false, false);
}

/** A hyperlink: an object whose only property is an `@odata.id` naming a resource (no fragment). */
function isReference(value: unknown): boolean {
  if (!value || typeof value !== "object" || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  const id = (value as Body)["@odata.id"];
  return keys.length === 1 && typeof id === "string" && !id.includes("#");
}

function normalise(uri: string): string {
  return uri.replace(/\/+$/, "");
}
