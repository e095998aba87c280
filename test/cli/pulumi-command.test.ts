import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { pulumiCommand } from "../../cli/stack-ops/pulumi-command";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-command-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
// The Automation API runs the `pulumi` of this process's PATH: the fake goes first on it.
const PATH = process.env.PATH;
afterEach(() => {
  process.env.PATH = PATH;
});

/** A `pulumi` on PATH that answers `version` with `version` and counts its runs in a file. */
function fakePulumi(version: string): { env: NodeJS.ProcessEnv; runs: () => number; bin: string } {
  const bin = path.join(dir, "bin");
  const count = path.join(dir, "runs");
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(count, "");
  fs.writeFileSync(path.join(bin, "pulumi"), `#!/bin/sh\necho run >> ${JSON.stringify(count)}\necho ${version}\n`, { mode: 0o755 });
  process.env.PATH = `${bin}${path.delimiter}${PATH}`;
  const env = { ...process.env, SMARTFLEET_CACHE_DIR: path.join(dir, "cache") };
  return { env, bin, runs: () => fs.readFileSync(count, "utf8").split("\n").filter(Boolean).length };
}

describe("pulumiCommand: the pulumi on PATH, its version kept while the binary stays the same", () => {
  it("asks `pulumi version` once, then answers from the cache; a changed binary is asked again; no cache folder, no cache", async () => {
    const fake = fakePulumi("v3.274.1");
    const first = await pulumiCommand(fake.env);
    expect(first.version?.version).toBe("3.274.1");
    expect(fake.runs()).toBe(1);
    const second = await pulumiCommand(fake.env);
    expect(second.version?.version).toBe("3.274.1");
    expect(fake.runs()).toBe(1);
    // The cached command runs like the one the Automation API makes.
    const ran = await second.run(["version"], dir, { PATH: fake.env.PATH as string });
    expect(ran.stdout.trim()).toBe("v3.274.1");
    expect(fake.runs()).toBe(2);

    fs.writeFileSync(path.join(fake.bin, "pulumi"), `#!/bin/sh\necho v3.275.0\n`, { mode: 0o755 });
    expect((await pulumiCommand(fake.env)).version?.version).toBe("3.275.0");

    const off = fakePulumi("v3.274.1");
    const uncached = { ...off.env, SMARTFLEET_CACHE_DIR: "" };
    await pulumiCommand(uncached);
    await pulumiCommand(uncached);
    expect(off.runs()).toBe(2);
  });
});
