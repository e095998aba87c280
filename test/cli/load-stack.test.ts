/**
 * An operation's stack file loaded on a worker thread (cli/stack-ops/load-stack.ts), as the
 * compiled `smartfleet` runs it: the shard layout comes back across the thread, the loaded
 * stack goes to the handoff file the shards' programs take, and an invalid file gets the
 * loader's own error.
 */
import * as fs from "node:fs";
import { createRequire } from "node:module";
import * as os from "node:os";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as YAML from "yaml";
import { handedOverStack } from "../../model/loaded-stack-handoff";

const ROOT = path.resolve(__dirname, "..", "..");
/** The compiled module, beside its compiled worker (`npm test` compiles first). */
const COMPILED = path.join(ROOT, "dist", "cli", "stack-ops", "load-stack.js");
const compiled = createRequire(__filename);
const { prepareStackOffThread } = compiled(COMPILED) as typeof import("../../cli/stack-ops/load-stack");
/** The class the compiled command catches. */
const { InputError } = compiled(path.join(ROOT, "dist", "schemas", "diagnostics.js")) as typeof import("../../schemas/diagnostics");
const LAB = path.join(ROOT, "stacks", "lab.yaml");

let dir: string;
beforeEach(() => void (dir = fs.mkdtempSync(path.join(os.tmpdir(), "smartfleet-load-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** The lab stack, written beside the original (its inventory path stays valid), with `change` applied. */
function labCopy(name: string, change: (doc: YAML.Document) => void): string {
  const doc = YAML.parseDocument(fs.readFileSync(LAB, "utf8"));
  change(doc);
  const file = path.join(path.dirname(LAB), `.${name}-${process.pid}.yaml`);
  fs.writeFileSync(file, doc.toString());
  return file;
}

describe("the stack file loaded off the command's thread", () => {
  it("a stack without shards: its rollout store's name, nothing to hand over", async () => {
    expect(fs.existsSync(path.join(path.dirname(COMPILED), "load-stack-worker.js"))).toBe(true);
    expect(await prepareStackOffThread(LAB, dir)).toEqual({ rollout: "lab" });
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("a sharded stack: its layout across the thread, the loaded stack in the handoff the programs take", async () => {
    const file = labCopy("sharded", (doc) => doc.set("shards", { by: "cluster" }));
    try {
      const prepared = await prepareStackOffThread(file, dir);
      expect(prepared.rollout).toBe("lab");
      expect(prepared.layout?.by).toBe("cluster");
      expect(prepared.layout?.hosts).toBeInstanceOf(Map);
      expect([...(prepared.layout?.shardOf.keys() ?? [])].sort()).toEqual(["esx-01", "esx-02", "esx-03", "esx-04"]);
      const handed = handedOverStack(file, prepared.handoff);
      expect(handed?.loaded.hosts.map((h) => h.name).sort()).toEqual(["esx-01", "esx-02", "esx-03", "esx-04"]);
      expect(handed?.checked).toMatchObject({ stackName: "lab", inputErrors: [] });
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  it("an invalid stack: the loader's own error, every problem with its line", async () => {
    const file = labCopy("invalid", (doc) => doc.set("hosts", 7));
    try {
      const failed = await prepareStackOffThread(file, dir).catch((error: unknown) => error);
      expect(failed).toBeInstanceOf(InputError);
      expect((failed as Error).message).toMatch(new RegExp(`${path.basename(file).replace(/\./g, "\\.")}:\\d+:\\d+`));
    } finally {
      fs.rmSync(file, { force: true });
    }
  });
});
