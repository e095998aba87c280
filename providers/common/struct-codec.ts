/**
 * A faster codec for `google.protobuf.Struct`, the type every resource's properties cross
 * the wire in: engine to provider (check, diff, create, update, read, delete) and program
 * to engine (RegisterResource and its answer). Pulumi's SDK converts them with
 * google-protobuf's generic message code, which builds a message object per value and
 * decodes strings byte by byte: about 0.19 ms to decode and 0.17 ms to encode one of our
 * 3.4 KB resource inputs. A shard's preview spends 1.6 s of its provider's 3.9 s of CPU
 * there, and about 1.1 s of its program's.
 *
 * `installStructCodec` keeps a Struct as its encoded bytes: decoded straight into a plain
 * object when the SDK asks for one (`toJavaScript`), encoded straight from one
 * (`fromJavaScript`), both by `struct-wire.ts`. The bytes and the objects are those google-protobuf makes: keys in
 * sorted order both ways, the same errors for values a Struct cannot hold. Anything else
 * that reads or changes the message (`getFieldsMap`, `clone`, ...) first turns it into
 * google-protobuf's own form, so nothing sees a difference but the time. (A message that
 * holds such a Struct and is cloned whole would lose it; the SDK clones none.)
 */
import * as path from "node:path";
import { decodeStruct, encodeStruct } from "./struct-wire";

/** The parts of google-protobuf's `struct_pb` module this replaces. */
export interface StructModule {
  Struct: {
    new (): object;
    fromJavaScript(object: object): object;
    deserializeBinaryFromReader(message: object, reader: unknown): object;
    serializeBinaryToWriter(message: object, writer: unknown): void;
    prototype: Record<string, unknown>;
  };
  Value: { fromJavaScript(value: unknown): object };
}

/** Where a Struct in the fast form keeps its encoded fields. */
const WIRE = Symbol("smartfleet.structWire");

/** Message methods that read or change google-protobuf's own form of the Struct. */
const MATERIALIZING = ["getFieldsMap", "clearFieldsMap", "toArray", "clone", "cloneMessage", "toObject"] as const;

interface BinaryReader {
  getBuffer(): Uint8Array;
  getCursor(): number;
}

/**
 * Makes `structModule`'s Struct keep its encoded form (see the top of this file). Applied
 * once per module; returns false when it was already, or when the module does not have
 * the shape this was written against (then it is left as it is).
 */
export function installStructCodec(structModule: StructModule): boolean {
  const { Struct, Value } = structModule;
  const proto = Struct.prototype as Record<string | symbol, unknown>;
  if (proto[WIRE] !== undefined || typeof proto.toJavaScript !== "function" || typeof proto.getFieldsMap !== "function") return false;
  const original = {
    toJavaScript: proto.toJavaScript as (this: object) => object,
    getFieldsMap: proto.getFieldsMap as (this: object) => { clear(): void; set(key: string, value: object): void },
    serializeBinaryToWriter: Struct.serializeBinaryToWriter,
    fromJavaScript: Struct.fromJavaScript,
  };
  proto[WIRE] = null;

  /** True while a Struct is turned into google-protobuf's form: its nested Structs go that way too. */
  let materializing = false;
  /** Turns a Struct in the fast form into google-protobuf's own, once. */
  const materialize = (message: Record<symbol, Uint8Array | null>): void => {
    const wire = message[WIRE];
    if (!wire) return;
    message[WIRE] = null;
    const fields = original.getFieldsMap.call(message);
    fields.clear();
    const object = decodeStruct(wire);
    materializing = true;
    try {
      for (const key of Object.keys(object)) fields.set(key, Value.fromJavaScript(object[key]));
    } finally {
      materializing = false;
    }
  };
  for (const name of MATERIALIZING) {
    const method = proto[name];
    if (typeof method !== "function") continue;
    proto[name] = function (this: Record<symbol, Uint8Array | null>, ...args: unknown[]) {
      materialize(this);
      return (method as (...a: unknown[]) => unknown).apply(this, args);
    };
  }

  proto.toJavaScript = function (this: Record<symbol, Uint8Array | null>) {
    const wire = this[WIRE];
    return wire ? decodeStruct(wire) : original.toJavaScript.call(this);
  };
  Struct.fromJavaScript = (object: object) => {
    if (materializing) return original.fromJavaScript(object);
    const message = new Struct() as Record<symbol, Uint8Array | null>;
    message[WIRE] = encodeStruct(object);
    return message;
  };
  Struct.serializeBinaryToWriter = (message: object, writer: unknown) => {
    const wire = (message as Record<symbol, Uint8Array | null>)[WIRE];
    if (!wire) return original.serializeBinaryToWriter(message, writer);
    (writer as { writeSerializedMessage(bytes: Uint8Array, start: number, end: number): void }).writeSerializedMessage(wire, 0, wire.length);
  };
  Struct.deserializeBinaryFromReader = (message: object, reader: unknown) => {
    // The caller (`readMessage`, or `deserializeBinary`) has bounded the reader to this
    // message and moves past it afterwards.
    const binary = reader as BinaryReader;
    const start = binary.getCursor();
    const end = boundedDecoder(binary).getEnd();
    (message as Record<symbol, Uint8Array | null>)[WIRE] = Buffer.from(binary.getBuffer().subarray(start, end));
    return message;
  };
  return true;
}

/** The reader's decoder, which knows where the current message ends (its field name is minified). */
function boundedDecoder(reader: BinaryReader): { getEnd(): number } {
  for (const value of Object.values(reader)) {
    if (value && typeof (value as { getEnd?: unknown }).getEnd === "function") return value as { getEnd(): number };
  }
  throw new Error("google-protobuf's BinaryReader has no decoder with getEnd()");
}

/**
 * Installs the codec in the google-protobuf that the SDK running `sdkScript` (its
 * dynamic-provider host or program runner) loads. `SMARTFLEET_SDK_STRUCT_CODEC=1` keeps
 * google-protobuf's own, to rule this out when debugging.
 */
export function installStructCodecForSdk(sdkScript: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.SMARTFLEET_SDK_STRUCT_CODEC === "1") return false;
  const sdkRoot = path.resolve(path.dirname(sdkScript), "..", "..");
  let structModule: StructModule;
  try {
    structModule = require(require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [sdkRoot] })) as StructModule;
  } catch {
    return false; // no google-protobuf beside this SDK: nothing to speed up, and a preload must not stop the process
  }
  return installStructCodec(structModule);
}
