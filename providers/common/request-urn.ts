/**
 * Which resource a dynamic-provider call is for: the URN of the gRPC request, recovered
 * from the property objects the call hands the provider.
 *
 * Pulumi's dynamic-provider host (`@pulumi/pulumi/cmd/dynamic-provider`) receives the
 * resource's URN in every Check/Diff/Create/Read/Update/Delete request but calls the
 * provider with the properties alone (`create(props)`, `read(id, props)`…), so a provider
 * cannot tell the engine which resource a message is about. The host reads those
 * properties with `req.getProperties().toJavaScript()` (`getOlds`, `getNews`, `getInputs`
 * likewise) right after the request is deserialized. {@link captureRequestUrns} wraps the
 * deserializers of the host's own `provider_pb` message classes so that each request
 * remembers its URN on the objects those getters produce; {@link urnOf} then finds it on
 * the object the provider was given. Nothing else about the request changes.
 *
 * This depends on the host's internals (the generated message classes and the getters it
 * calls), so it is checked twice: `test/providers/request-urn.test.ts` runs the host's real
 * deserializer and getters of the installed SDK, and `test/e2e/progress.test.ts` runs a real
 * `pulumi up` and expects the messages on the resource. When a new SDK no longer matches,
 * calls simply have no URN and messages go to the provider's stderr with the resource's
 * name as a prefix (see `progress.ts`): nothing fails.
 */

/** The request messages the host reads properties from, and the getters it reads them with. */
export const REQUEST_GETTERS: Readonly<Record<string, readonly string[]>> = {
  CheckRequest: ["getOlds", "getNews"],
  DiffRequest: ["getOlds", "getNews"],
  CreateRequest: ["getProperties"],
  ReadRequest: ["getProperties", "getInputs"],
  UpdateRequest: ["getOlds", "getNews"],
  DeleteRequest: ["getProperties"],
};

/** A generated protobuf message class, as far as this module uses it. */
interface MessageClass {
  deserializeBinary(bytes: Uint8Array): RequestMessage;
  prototype: Record<string, unknown>;
}

type RequestMessage = Record<string, unknown> & { getUrn(): string };
type StructLike = { toJavaScript(): unknown };

const urns = new WeakMap<object, string>();
const wrappedStructs = new WeakSet<object>();
const WRAPPED = Symbol("smartfleet.requestUrn");

/** The URN of the request whose properties `props` are, when it was captured. */
export function urnOf(props: unknown): string | undefined {
  return typeof props === "object" && props !== null ? urns.get(props) : undefined;
}

/**
 * Makes every request later deserialized through `providerPb` (the host's
 * `proto/provider_pb` module) mark its property objects with its URN. Idempotent. Returns
 * the request classes it could not wrap (empty when all of them were), so the caller can
 * say that progress goes to stderr.
 */
export function captureRequestUrns(providerPb: Record<string, unknown>): string[] {
  const missing: string[] = [];
  for (const [name, getters] of Object.entries(REQUEST_GETTERS)) {
    const cls = providerPb[name] as MessageClass | undefined;
    const usable = typeof cls?.deserializeBinary === "function" && typeof cls.prototype.getUrn === "function" && getters.every((g) => typeof cls.prototype[g] === "function");
    if (!cls || !usable) {
      missing.push(name);
      continue;
    }
    const original = cls.deserializeBinary as MessageClass["deserializeBinary"] & { [WRAPPED]?: true };
    if (original[WRAPPED]) continue;
    const wrapped = Object.assign(
      function deserializeBinary(this: unknown, bytes: Uint8Array): RequestMessage {
        const request = original.call(this, bytes);
        markRequest(request, getters);
        return request;
      },
      { [WRAPPED]: true as const },
    );
    cls.deserializeBinary = wrapped;
  }
  return missing;
}

/** Wraps the request's own property getters: each Struct they return remembers the URN. */
function markRequest(request: RequestMessage, getters: readonly string[]): void {
  const urn = request.getUrn();
  if (!urn) return;
  for (const getter of getters) {
    const get = request[getter] as (this: RequestMessage) => StructLike | undefined;
    request[getter] = function (this: RequestMessage): StructLike | undefined {
      const struct = get.call(this);
      if (struct && typeof struct.toJavaScript === "function" && !wrappedStructs.has(struct)) {
        wrappedStructs.add(struct);
        const toJavaScript = struct.toJavaScript;
        struct.toJavaScript = function (this: StructLike): unknown {
          const value = toJavaScript.call(this);
          if (typeof value === "object" && value !== null) urns.set(value, urn);
          return value;
        };
      }
      return struct;
    };
  }
}
