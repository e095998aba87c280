import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

/**
 * `npm run lint:imports` can fail: the project's own rules file (.dependency-cruiser.cjs,
 * not a copy) run by the dependency-cruiser CLI over tiny trees laid out like the repo.
 */
const root = path.resolve(__dirname, "..");
const rules = path.join(root, ".dependency-cruiser.cjs");
const depcruise = path.join(root, "node_modules", "dependency-cruiser", "bin", "dependency-cruise.mjs");

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "sf-layers-"));
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** Writes `files` (relative path -> source) into a fresh directory and cruises its top folders. */
function cruise(name: string, files: Record<string, string>): { status: number | null; output: string } {
  const dir = path.join(scratch, name);
  const tree: Record<string, string> = {
    "tsconfig.json": JSON.stringify({ compilerOptions: { module: "commonjs", moduleResolution: "node", strict: true } }),
    ...files,
  };
  for (const [file, text] of Object.entries(tree)) {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  }
  const folders = [...new Set(Object.keys(files).map((f) => f.split("/")[0]))];
  const result = spawnSync(process.execPath, [depcruise, "--config", rules, "--output-type", "err", ...folders], {
    cwd: dir,
    encoding: "utf8",
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** A small tree whose imports all point down. */
const clean: Record<string, string> = {
  "schemas/kinds.ts": "export const KINDS = ['host'] as const;\n",
  "model/load.ts": "import { KINDS } from '../schemas/kinds';\nexport interface Loaded { kinds: typeof KINDS }\n",
  "providers/redfish/client.ts": "export class Client {}\n",
  "providers/host.ts":
    "import { Client } from './redfish/client';\nimport type { Loaded } from '../model/load';\n" +
    "export const host = (l: Loaded) => [new Client(), l];\n",
  "test/host.test.ts": "import { host } from '../providers/host';\nexport const t = host;\n",
};

describe("import layers (.dependency-cruiser.cjs)", () => {
  it("passes a tree whose imports point down", () => {
    const { status, output } = cruise("clean", clean);
    expect(output).toContain("no dependency violations found");
    expect(status).toBe(0);
  });

  it("fails on an upward import, type-only ones included, naming the rule and the files", () => {
    const { status, output } = cruise("upward", {
      ...clean,
      "schemas/diagnostics.ts": "import { host } from '../model/upper';\nexport const d = host;\n",
      "schemas/validate.ts": "import type { Loaded } from '../model/load';\nexport type V = Loaded;\n",
      "model/upper.ts": "export const host = 'h';\n",
      "providers/redfish/pool.ts": "import { host } from '../host';\nexport const p = host;\n",
    });
    expect(status).not.toBe(0);
    expect(output).toContain("schemas-is-the-bottom-layer: schemas/diagnostics.ts → model/upper.ts");
    expect(output).toContain("schemas-is-the-bottom-layer: schemas/validate.ts → model/load.ts");
    expect(output).toContain("providers-redfish-is-lower-sub-layer: providers/redfish/pool.ts → providers/host.ts");
  });

  it("fails on two files importing each other (one side type-only) with the cycle rule", () => {
    const { status, output } = cruise("cycle", {
      ...clean,
      "model/a.ts": "import { b } from './b';\nexport const a = () => b;\nexport interface A { n: number }\n",
      "model/b.ts": "import type { A } from './a';\nexport const b = (x: A) => x.n;\n",
    });
    expect(status).not.toBe(0);
    expect(output).toMatch(/no-circular: model\/(a|b)\.ts → /);
    expect(output).not.toContain("schemas-is-the-bottom-layer");
  });
});
