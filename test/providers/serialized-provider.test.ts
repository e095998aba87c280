import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { lazyProvider } from "../../providers/common/lazy-provider";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "sf-serialized-provider-"));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

afterEach(() => vi.unstubAllEnvs());

type Module = typeof import("../../providers/common/serialized-provider");

/** A fresh copy of the module (nothing kept in memory), reading `cacheDir` ("" for no cache). */
async function fresh(cacheDir: string): Promise<Module> {
  vi.resetModules();
  vi.stubEnv("SMARTFLEET_CACHE_DIR", cacheDir);
  return import("../../providers/common/serialized-provider");
}

/** The value of an input, and whether it had to be waited for (an Output) or was there at once. */
async function valueOf(input: pulumi.Input<string>): Promise<{ text: string; atOnce: boolean }> {
  if (typeof input === "string") return { text: input, atOnce: true };
  const text = await new Promise<string>((resolve) => pulumi.output(input).apply((value) => resolve(value)));
  return { text, atOnce: false };
}

/** What Pulumi's `dynamic.Resource` would store for the kind whose provider file is `file`. */
async function serializerText(file: string): Promise<string> {
  const provider = lazyProvider(file);
  return (await pulumi.runtime.serializeFunction(() => provider, { allowSecrets: true })).text;
}

function entries(cacheDir: string): string[] {
  const dir = path.join(cacheDir, "dynamic-providers");
  return fs.existsSync(dir) ? fs.readdirSync(dir).map((name) => path.join(dir, name)) : [];
}

/** What the engine (Pulumi's mocks) was asked to register. */
const registered: pulumi.runtime.MockResourceArgs[] = [];

describe("a kind's serialized provider, kept between programs", () => {
  beforeAll(async () => {
    await pulumi.runtime.setMocks(
      {
        newResource: (args) => {
          registered.push(args);
          return { id: args.name, state: args.inputs };
        },
        call: () => ({}),
      },
      "smartfleet",
      "serialized-provider",
      false,
    );
  });

  it("is what a kind's resource registers, under the type Pulumi's dynamic.Resource gives it", async () => {
    const cacheDir = fs.mkdtempSync(path.join(root, "cache-"));
    await fresh(cacheDir);
    const { SmartNic } = await import("../../providers/smart-nic");
    new SmartNic("nic-under-test", { host: "esx-01", name: "nic1" } as never);
    while (!registered.some((r) => r.name === "nic-under-test")) await new Promise((resolve) => setImmediate(resolve));
    const args = registered.find((r) => r.name === "nic-under-test") as pulumi.runtime.MockResourceArgs;
    expect(args.type).toBe("pulumi-nodejs:dynamic/smartfleet:SmartNic");
    expect(args.inputs.__provider).toBe(await serializerText("smart-nic.js"));
    expect(args.inputs).toMatchObject({ host: "esx-01", name: "nic1" });
  });

  it("is the serializer's text: made once, then read by the next program without serializing", async () => {
    const cacheDir = fs.mkdtempSync(path.join(root, "cache-"));
    const expected = await serializerText("smart-nic.js");

    const first = await fresh(cacheDir);
    const made = await valueOf(first.serializedProvider("smart-nic.js", lazyProvider("smart-nic.js")));
    expect(made).toEqual({ text: expected, atOnce: false });
    expect(entries(cacheDir)).toHaveLength(1);

    const next = await fresh(cacheDir);
    const serialize = vi.spyOn(pulumi.runtime, "serializeFunction");
    try {
      expect(await valueOf(next.serializedProvider("smart-nic.js", lazyProvider("smart-nic.js")))).toEqual({ text: expected, atOnce: true });
      expect(serialize).not.toHaveBeenCalled();
    } finally {
      serialize.mockRestore();
    }
  });

  it("is kept per kind: each file name has its own entry and text", async () => {
    const cacheDir = fs.mkdtempSync(path.join(root, "cache-"));
    const made = await fresh(cacheDir);
    for (const file of ["host.js", "dpu-os.js"]) await valueOf(made.serializedProvider(file, lazyProvider(file)));
    const kept = await fresh(cacheDir);
    for (const file of ["host.js", "dpu-os.js"]) {
      expect(await valueOf(kept.serializedProvider(file, lazyProvider(file)))).toEqual({ text: await serializerText(file), atOnce: true });
    }
    expect(entries(cacheDir)).toHaveLength(2);
  });

  it("is never taken from a damaged entry: the provider is serialized again and the entry rewritten", async () => {
    const cacheDir = fs.mkdtempSync(path.join(root, "cache-"));
    await valueOf((await fresh(cacheDir)).serializedProvider("host.js", lazyProvider("host.js")));
    const [entry] = entries(cacheDir);
    const damaged = fs.readFileSync(entry, "utf8").replace("host.js", "evil.js");
    fs.writeFileSync(entry, damaged);

    const again = await valueOf((await fresh(cacheDir)).serializedProvider("host.js", lazyProvider("host.js")));
    expect(again).toEqual({ text: await serializerText("host.js"), atOnce: false });
    expect(fs.readFileSync(entry, "utf8")).not.toBe(damaged);
  });

  it("is serialized in every program when the cache is off, and nothing is written", async () => {
    const home = fs.mkdtempSync(path.join(root, "home-"));
    vi.stubEnv("XDG_CACHE_HOME", home);
    const off = await fresh("");
    expect(await valueOf(off.serializedProvider("host.js", lazyProvider("host.js")))).toEqual({ text: await serializerText("host.js"), atOnce: false });
    expect(fs.readdirSync(home)).toEqual([]);
  });
});
