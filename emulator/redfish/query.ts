/**
 * The query parameters of a GET as DSP0266 (clause "Query parameters") defines them, and
 * the two that reshape an answer after it is rendered:
 *
 * - `$select=A,B/C` keeps the named properties (a `/` path keeps one property of a complex
 *   one) and the `@odata.id`, `@odata.type`, `@odata.context` and `@odata.etag` every
 *   answer carries; a name the resource lacks selects nothing (the schema may define it for
 *   other instances).
 * - `only` on a collection with exactly one member answers that member instead; with zero
 *   or several members the collection as usual. It takes no value, applies to collections
 *   only (400 `QueryNotSupportedOnResource` elsewhere), and combines with no other query
 *   parameter (400 `QueryCombinationInvalid`), as the specification requires.
 *
 * `$expand` is parsed by `expand.ts`; any other `$` parameter answers 501 `QueryNotSupported`,
 * as the service root's `ProtocolFeaturesSupported` says.
 */
import { ServiceError } from "../service-error";
import { parseExpand, type ExpandRequest } from "./expand";

type Body = Record<string, unknown>;

/** What a request's query asks of a GET. */
export interface QueryRequest {
  /** `$expand`, if given. */
  expand?: ExpandRequest;
  /** `$select` as property paths (`["Status", "Health"]` for `Status/Health`), if given. */
  select?: string[][];
  /** True when `only` is given. */
  only: boolean;
}

/** A property name or path segment: OData simple identifiers (letters, digits, `_`), annotations with `@` and `.`. */
const SEGMENT = /^[A-Za-z_@][A-Za-z0-9_@.#]*$/;

/** Parses the query of a request; throws the Base message a client would get for a bad one. */
export function parseQuery(query: URLSearchParams): QueryRequest {
  const request: QueryRequest = { only: false };
  let parameters = 0;
  for (const [key, value] of query) {
    if (key === "only") {
      if (value !== "") throw new ServiceError(400, "QueryParameterValueFormatError", [value, "only"], "only takes no value");
      request.only = true;
    } else if (key === "$expand") request.expand = parseExpand(value);
    else if (key === "$select") request.select = parseSelect(value);
    else if (key.startsWith("$")) throw new ServiceError(501, "QueryNotSupported", [], `query parameter ${key} is not supported`);
    else continue; // not a Redfish query parameter: ignored, as DSP0266 asks
    parameters++;
  }
  if (request.only && parameters > 1) {
    throw new ServiceError(400, "QueryCombinationInvalid", [], "only cannot be combined with another query parameter");
  }
  return request;
}

/** `$select`'s comma-separated property paths; 400 `QueryParameterValueFormatError` for an empty or malformed one. */
function parseSelect(value: string): string[][] {
  const paths = value.split(",").map((p) => p.trim().split("/"));
  for (const path of paths) {
    if (path.some((segment) => !SEGMENT.test(segment))) {
      throw new ServiceError(400, "QueryParameterValueFormatError", [value, "$select"], "$select takes comma-separated property names, a / between a property and one of its properties");
    }
  }
  return paths;
}

/** The properties every selected answer keeps. */
const ALWAYS_KEPT = ["@odata.id", "@odata.type", "@odata.context", "@odata.etag"];

/** A copy of `body` with only the `paths` (and the OData identity annotations) kept. */
export function selectProperties(body: Body, paths: string[][]): Body {
  const out: Body = {};
  for (const key of ALWAYS_KEPT) if (key in body) out[key] = body[key];
  for (const path of paths) copyPath(body, out, path);
  return out;
}

function copyPath(from: Body, to: Body, path: string[]): void {
  const [head, ...rest] = path;
  if (!(head in from)) return;
  const value = from[head];
  if (rest.length === 0 || value === null || typeof value !== "object" || Array.isArray(value)) {
    to[head] = value;
    return;
  }
  const existing = to[head];
  const target: Body = existing && typeof existing === "object" && !Array.isArray(existing) ? (existing as Body) : {};
  to[head] = target;
  copyPath(value as Body, target, rest);
}

/** True when `body` is a resource collection (it has `Members`). */
export function isCollection(body: Body): boolean {
  return Array.isArray(body.Members) && typeof body["@odata.type"] === "string" && /Collection\./.test(body["@odata.type"]);
}

/**
 * The URI `only` answers for `body`: its one member's, or undefined to answer the collection
 * (zero or several members); 400 `QueryNotSupportedOnResource` when `body` is no collection.
 */
export function onlyMember(body: Body): string | undefined {
  if (!isCollection(body)) throw new ServiceError(400, "QueryNotSupportedOnResource", [], "only applies to resource collections");
  const members = body.Members as Body[];
  if (members.length !== 1) return undefined;
  const id = members[0]["@odata.id"];
  return typeof id === "string" ? id : undefined;
}
