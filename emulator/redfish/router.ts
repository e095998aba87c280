/**
 * A small router: routes are path templates (`/redfish/v1/Systems/{system}`) with one
 * handler per HTTP method. Lookup answers the handler, the path parameters, and the
 * methods the path allows (for 405 and the `Allow` header).
 */

/** Path parameters by name. */
export type Params = Record<string, string>;

interface Route<H> {
  segments: string[];
  handlers: Partial<Record<string, H>>;
}

/** Result of a lookup. */
export type Match<H> =
  | { kind: "found"; handler: H; params: Params; allow: string[] }
  | { kind: "method-not-allowed"; allow: string[] }
  | { kind: "not-found" };

/** Lookups remembered (a snapshot read looks up each of a port's ~100 resources); the oldest go first. */
const MAX_REMEMBERED = 10_000;

/** Routes path templates to handlers. */
export class Router<H> {
  private readonly routes: Route<H>[] = [];
  private readonly remembered = new Map<string, Match<H>>();

  /** Adds handlers for a path template; `{name}` matches one segment. */
  on(template: string, handlers: Partial<Record<"GET" | "POST" | "PATCH" | "DELETE" | "PUT", H>>): this {
    this.routes.push({ segments: template.split("/").filter(Boolean), handlers });
    this.remembered.clear();
    return this;
  }

  /** Finds the handler for `method` on `pathname` (no trailing slash significance). */
  match(method: string, pathname: string): Match<H> {
    const key = `${method} ${pathname}`;
    let found = this.remembered.get(key);
    if (!found) {
      found = this.lookUp(method, pathname);
      if (this.remembered.size >= MAX_REMEMBERED) this.remembered.delete(this.remembered.keys().next().value as string);
      this.remembered.set(key, found);
    }
    return copyOf(found);
  }

  private lookUp(method: string, pathname: string): Match<H> {
    const parts = pathname.split("/").filter(Boolean);
    for (const route of this.routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      const allow = Object.keys(route.handlers);
      if (allow.includes("GET")) allow.push("HEAD");
      const lookup = method === "HEAD" ? "GET" : method;
      const handler = route.handlers[lookup];
      if (!handler) return { kind: "method-not-allowed", allow };
      return { kind: "found", handler, params, allow };
    }
    return { kind: "not-found" };
  }
}

/** A remembered match as the caller may keep or change it: its objects copied. */
function copyOf<H>(match: Match<H>): Match<H> {
  if (match.kind === "found") return { ...match, params: { ...match.params }, allow: [...match.allow] };
  if (match.kind === "method-not-allowed") return { ...match, allow: [...match.allow] };
  return match;
}

function matchSegments(template: string[], parts: string[]): Params | null {
  if (template.length !== parts.length) return null;
  const params: Params = {};
  for (let i = 0; i < template.length; i++) {
    const t = template[i];
    if (t.startsWith("{") && t.endsWith("}")) {
      let value: string;
      try {
        value = decodeURIComponent(parts[i]);
      } catch {
        return null;
      }
      params[t.slice(1, -1)] = value;
    } else if (t !== parts[i]) return null;
  }
  return params;
}
