import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it } from "vitest";
import { lazyProvider } from "../../providers/common/lazy-provider";
const smartNicProvider = lazyProvider("smart-nic.js");

describe("the serialized provider", () => {
  const startDir = process.cwd();
  afterEach(() => process.chdir(startDir));

  it("serializes to less than 2 KB with no path of this machine in it", async () => {
    const { text } = await pulumi.runtime.serializeFunction(() => smartNicProvider, { allowSecrets: true });
    expect(Buffer.byteLength(text)).toBeLessThan(2048);
    expect(text).not.toContain(startDir);
    expect(text).toContain("smart-nic.js");
  });

  it("loads the implementation from dist/providers above the working directory at configure time", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "sf-lazy-"));
    fs.mkdirSync(path.join(root, "dist", "providers"), { recursive: true });
    fs.mkdirSync(path.join(root, "dist", "stacks"), { recursive: true });
    fs.writeFileSync(
      path.join(root, "dist", "providers", "fake.js"),
      `exports.implementation = { configured: false, async configure() { this.configured = true; },
        async check() { return { failures: [] }; }, async diff() { return { changes: false }; },
        async create(i) { return { id: "fake-" + i.n, outs: { configured: this.configured } }; },
        async read() { return {}; }, async update() { return {}; }, async delete() {} };`,
    );
    process.chdir(path.join(root, "dist", "stacks"));
    const provider = lazyProvider("fake.js");
    await provider.configure?.({ config: { get: () => undefined, require: () => "" } });
    expect(await provider.create({ n: 1 })).toEqual({ id: "fake-1", outs: { configured: true } });
  });

  it("fails if no build is found, telling how to make one", async () => {
    process.chdir(os.tmpdir());
    await expect(lazyProvider("missing.js").configure?.({ config: { get: () => undefined, require: () => "" } })).rejects.toThrow(/npm run build/);
  });
});
