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
 * as a GET would (with its `@odata.etag`), or undefined where the caller may not see it or
 * it does not exist: that hyperlink stays a reference. Neither `body` nor what `read`
 * answers is changed (they may be the service's own state): the answer is built from
 * copies made while looking for hyperlinks, in the one walk each resource needs anyway.
 */
export function expandResource(body: Body, request: ExpandRequest, read: (uri: string) => Body | undefined): Body {
  const seen = new Set<string>([normalise(String(body["@odata.id"] ?? ""))]);
  let references: Reference[] = [];
  const top = copyFindingReferences(body, request.which, references) as Body;
  for (let level = 0; level < request.levels && references.length > 0; level++) {
    const next: Reference[] = [];
    for (const { holder, key } of references) {
      const uri = String((holder[key] as Body)["@odata.id"]);
      if (seen.has(normalise(uri))) continue;
      const target = read(uri);
      if (!target) continue;
      seen.add(normalise(uri));
      holder[key] = copyFindingReferences(target, request.which, next);
    }
    references = next;
  }
  return top;
}

/** Where a hyperlink sits in the copy: `holder[key]` is the reference, to be replaced by the resource. */
interface Reference {
  holder: Slots;
  key: string | number;
}

/**
 * A deep copy of `value` (as JSON would carry it) that adds every reference `which`
 * selects to `found`, in document order: `.` those outside `Links`, `~` those inside it,
 * `*` all, including the ones in annotations (`@Redfish.Settings`).
 */
function copyFindingReferences(value: unknown, which: ExpandRequest["which"], found: Reference[]): unknown {
  const wanted = (inLinks: boolean, inAnnotation: boolean) => which === "*" || (which === "." ? !inLinks && !inAnnotation : inLinks && !inAnnotation);
  const copy = (item: unknown, inLinks: boolean, inAnnotation: boolean): unknown => {
    if (!item || typeof item !== "object") return item;
    if (Array.isArray(item)) {
      const out: unknown[] = new Array(item.length);
      item.forEach((entry, i) => {
        out[i] = copy(entry, inLinks, inAnnotation);
        if (isReference(entry) && wanted(inLinks, inAnnotation)) found.push({ holder: out as unknown as Slots, key: i });
      });
      return out;
    }
    const out: Body = {};
    for (const [key, entry] of Object.entries(item as Body)) {
      if (entry === undefined) continue;
      const links = inLinks || key === "Links";
      const annotation = inAnnotation || key.includes("@");
      out[key] = copy(entry, links, annotation);
      if (isReference(entry) && wanted(links, annotation)) found.push({ holder: out, key });
    }
    return out;
  };
  return copy(value, false, false);
}

/** A hyperlink: an object whose only property is an `@odata.id` naming a resource (no fragment). */
function isReference(value: unknown): boolean {
  if (!value || typeof value !== "object" || Array.isArray(value)) return false;
  const id = (value as Body)["@odata.id"];
  if (typeof id !== "string" || id.includes("#")) return false;
  for (const key in value) if (key !== "@odata.id" && (value as Body)[key] !== undefined) return false;
  return true;
}

function normalise(uri: string): string {
  return uri.replace(/\/+$/, "");
}
