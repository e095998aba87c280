import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { decodeStruct, encodeStruct } from "../../providers/common/struct-wire";
import { seededRandom } from "../support/seeded-random";

const ROOT = path.resolve(__dirname, "..", "..");
const SDK = path.join(ROOT, "node_modules", "@pulumi", "pulumi");
/** google-protobuf's own Struct, as the SDK loads it; this process never installs the codec in it. */
const STRUCT_PB = require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [SDK] });
const { Struct } = require(STRUCT_PB) as {
  Struct: { fromJavaScript(o: object): { serializeBinary(): Uint8Array }; deserializeBinary(b: Uint8Array): { toJavaScript(): object } };
};
/** The compiled modules, as the preload loads them (`npm test` compiles first). */
const CODEC = path.join(ROOT, "dist", "providers", "common", "struct-codec.js");
const PRELOAD = path.join(ROOT, "dist", "providers", "common", "engine-watch-preload.js");

const theirBytes = (value: object) => Buffer.from(Struct.fromJavaScript(value).serializeBinary());
const theirObject = (bytes: Uint8Array) => Struct.deserializeBinary(bytes).toJavaScript();
/** Keys in order at every level, which JSON.stringify shows and toEqual does not. */
const exactly = (value: unknown) => JSON.stringify(value);

const WORDS = ["", "a", "rack-5", "MT0000001004", "é", "😀 pair", "x".repeat(200), "ü".repeat(70), "10", "2", "__provider", "v1:kGjmik9u9tpTV4MK:suj1qpx2WL711AlnFUs7DY+Cp"];
const NUMBERS = [0, -0, 1, -1, 0.5, 8443, 2 ** 31, 2 ** 53 + 2, -1e308, 1e-300, Number.NaN, Number.POSITIVE_INFINITY];

function randomValue(next: () => number, depth: number): unknown {
  const pick = <T>(list: T[]) => list[Math.floor(next() * list.length)];
  const kind = depth > 3 ? Math.floor(next() * 4) : Math.floor(next() * 6);
  if (kind === 0) return pick(WORDS);
  if (kind === 1) return pick(NUMBERS);
  if (kind === 2) return next() < 0.5;
  if (kind === 3) return null;
  if (kind === 4) return Array.from({ length: Math.floor(next() * 5) }, () => randomValue(next, depth + 1));
  return randomObject(next, depth + 1);
}

function randomObject(next: () => number, depth: number): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (let n = Math.floor(next() * 7); n > 0; n--) object[WORDS[Math.floor(next() * WORDS.length)] + (next() < 0.5 ? "" : String(n))] = randomValue(next, depth);
  return object;
}

/** Wire bytes written by hand: a varint, a length-delimited field, and a map entry. */
const varint = (n: number): number[] => (n < 0x80 ? [n] : [(n & 0x7f) | 0x80, ...varint(Math.floor(n / 128))]);
const field = (tag: number, body: number[]): number[] => [tag, ...varint(body.length), ...body];
const text = (s: string): number[] => [...Buffer.from(s, "utf8")];
const entry = (key: string, value: number[]): number[] => field(0x0a, [...field(0x0a, text(key)), ...field(0x12, value)]);

describe("the Struct codec against google-protobuf's", () => {
  it("encodes the same bytes and decodes the same objects, keys in the same order, for 400 generated documents", () => {
    const next = seededRandom(20261204);
    for (let i = 0; i < 400; i++) {
      const document = randomObject(next, 0);
      const bytes = theirBytes(document);
      expect(Buffer.from(encodeStruct(document)).equals(bytes), `document ${i}: ${exactly(document)}`).toBe(true);
      expect(exactly(decodeStruct(bytes)), `document ${i}`).toBe(exactly(theirObject(bytes)));
    }
  });

  it("handles lengths that need several bytes, and a resource's inputs as our providers send them", () => {
    const big = { blob: "z".repeat(70_000), nested: { list: Array.from({ length: 300 }, (_, i) => ({ i, name: `item-${i}` })) } };
    expect(Buffer.from(encodeStruct(big)).equals(theirBytes(big))).toBe(true);
    expect(decodeStruct(theirBytes(big))).toEqual(big);
    const inputs = {
      __provider: "exports.handler = __f0;\n".repeat(60),
      password: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", ciphertext: "v1:MqWh" },
      target: { address: "127.250.4.4", host: "esx-0502", port: 8443, serial: "MT0000001004", smartnic: "nic2" },
      rollout: { budget: 1000, dpus: [{ target: { port: 8443 }, username: "root" }], onFailure: "halt", canary: 0 },
    };
    expect(Buffer.from(encodeStruct(inputs)).equals(theirBytes(inputs))).toBe(true);
    expect(exactly(decodeStruct(theirBytes(inputs)))).toBe(exactly(theirObject(theirBytes(inputs))));
  });

  it("sorts keys another encoder sent in any order, lets a later duplicate win and skips fields it does not know", () => {
    const stringValue = (s: string) => field(0x1a, text(s));
    const bytes = Uint8Array.from([
      ...entry("b", stringValue("first b")),
      ...entry("a", [0x20, 1]), // bool_value true
      ...[0x38, 0x05], // an unknown varint field (7) between entries
      ...entry("b", [...[0x45, 1, 2, 3, 4], ...stringValue("second b")]), // an unknown fixed32 field first
      ...entry("10", [0x08, 0x00]), // null_value
      ...entry("c", field(0x32, [...field(0x0a, [0x11, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]), ...field(0x0a, stringValue("x"))])),
    ]);
    const ours = decodeStruct(bytes);
    expect(exactly(ours)).toBe(exactly(theirObject(bytes)));
    expect(ours).toEqual({ "10": null, a: true, b: "second b", c: [1, "x"] });
  });

  it("refuses what google-protobuf refuses, with its messages", () => {
    for (const bad of [{ a: undefined }, { a: () => 1 }, { a: [1, Symbol("s")] }, { a: 10n }]) {
      expect(() => Struct.fromJavaScript(bad)).toThrow("Unexpected struct type.");
      expect(() => encodeStruct(bad)).toThrow("Unexpected struct type.");
    }
    const noKind = Uint8Array.from(entry("a", []));
    expect(() => theirObject(noKind)).toThrow("Unexpected struct type");
    expect(() => decodeStruct(noKind)).toThrow("Unexpected struct type");
    expect(() => decodeStruct(Uint8Array.from([0x0a, 0x20, 0x0a]))).toThrow(/past the end/);
  });
});

/**
 * In a fresh Node process: builds Pulumi's CheckRequest and a Struct with google-protobuf's
 * own codec, installs ours, and reports what the same calls give now.
 */
const INSTALLED = `
const { installStructCodec } = require(${JSON.stringify(CODEC)});
const pb = require(${JSON.stringify(STRUCT_PB)});
const { CheckRequest } = require(${JSON.stringify(path.join(SDK, "proto", "provider_pb.js"))});
const news = { __provider: "x".repeat(300), port: 8443, name: "dfw", secret: { ciphertext: "v1:x" }, list: [1, null, "é"] };
const request = () => { const r = new CheckRequest(); r.setUrn("urn:pulumi:s::p::t::n"); r.setNews(pb.Struct.fromJavaScript(news)); r.setOlds(pb.Struct.fromJavaScript({})); return r; };
const before = Buffer.from(request().serializeBinary());
const installed = [installStructCodec(pb), installStructCodec(pb)];
const after = Buffer.from(request().serializeBinary());
const decoded = CheckRequest.deserializeBinary(before);
const viaMap = CheckRequest.deserializeBinary(before).getNews();
const map = viaMap.getFieldsMap();
map.set("name", pb.Value.fromJavaScript("ids"));
const cloned = CheckRequest.deserializeBinary(before).getNews().clone();
console.log(JSON.stringify({
  installed, sameBytes: before.equals(after), urn: decoded.getUrn(),
  news: decoded.getNews().toJavaScript(), fresh: decoded.getNews().toJavaScript() !== decoded.getNews().toJavaScript(),
  port: map.get("port").toJavaScript(), changed: viaMap.toJavaScript().name, reencoded: Buffer.from(viaMap.serializeBinary()).length > 0,
  cloned: cloned.toJavaScript(),
}));
`;

describe("the codec installed in google-protobuf", () => {
  it("gives Pulumi's messages the same bytes and objects; a message read through its map sees its fields", () => {
    const out = JSON.parse(execFileSync(process.execPath, ["-e", INSTALLED], { encoding: "utf8" }));
    const news = { __provider: "x".repeat(300), list: [1, null, "é"], name: "dfw", port: 8443, secret: { ciphertext: "v1:x" } };
    expect(out).toEqual({ installed: [true, false], sameBytes: true, urn: "urn:pulumi:s::p::t::n", news, fresh: true, port: 8443, changed: "ids", reencoded: true, cloned: news });
  });
});

describe("the preload installs it where Pulumi runs our code", () => {
  const fake = fs.mkdtempSync(path.join(os.tmpdir(), "struct-codec-"));
  afterAll(() => fs.rmSync(fake, { recursive: true, force: true }));

  /**
   * Runs a script at `role`'s path inside a stand-in SDK folder (whose google-protobuf is the
   * real one) with the preload, and reports whether that google-protobuf's Struct has the codec.
   */
  function installedUnder(role: string, env: NodeJS.ProcessEnv = {}): boolean {
    const sdk = path.join(fake, "node_modules", "@pulumi", "pulumi");
    const script = path.join(sdk, ...role.split("/"));
    fs.mkdirSync(path.dirname(script), { recursive: true });
    const protobuf = path.join(fake, "node_modules", "google-protobuf");
    if (!fs.existsSync(protobuf)) fs.symlinkSync(path.dirname(path.dirname(path.dirname(STRUCT_PB))), protobuf);
    fs.writeFileSync(script, `const { Struct } = require("google-protobuf/google/protobuf/struct_pb");\nconsole.log(Object.getOwnPropertySymbols(Struct.prototype).some((s) => s.description === "smartfleet.structWire"));\nprocess.exit(0);\n`);
    const output = execFileSync(process.execPath, ["--require", PRELOAD, script, "127.0.0.1:1"], { encoding: "utf8", env: { ...process.env, ...env }, cwd: fake });
    return output.trim().split("\n").pop() === "true";
  }

  it("in the program runner and the dynamic-provider host, unless SMARTFLEET_SDK_STRUCT_CODEC=1; not elsewhere", () => {
    expect(installedUnder("cmd/run/index.js")).toBe(true);
    expect(installedUnder("cmd/dynamic-provider/index.js")).toBe(true);
    expect(installedUnder("cmd/run/index.js", { SMARTFLEET_SDK_STRUCT_CODEC: "1" })).toBe(false);
    expect(installedUnder("cmd/other/index.js")).toBe(false);
  });
});
