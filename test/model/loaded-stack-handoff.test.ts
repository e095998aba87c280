/**
 * The loaded stack `smartfleet up` hands to its shard programs: taken only for the same
 * stack with unchanged files, and equal in what it declares to loading the files.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { resourceDeclarations } from "../../model/declarations";
import { loadStackSync } from "../../model/load";
import { awaitGate, handedOverStack, handoffGate, LOADED_STACK_ENV, LOADED_STACK_GATE_ENV, writeLoadedStack } from "../../model/loaded-stack-handoff";
import { checkStack } from "../../policies/check";
import { tempDir } from "../support/stack-fixtures";

const ROOT = path.resolve(__dirname, "..", "..");
const dirs: Array<{ cleanup(): void }> = [];
afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));

/** The lab stack and its inventory in a repository of their own, loaded, and handed over. */
function handedLab() {
  const repo = tempDir("sf-handoff-");
  dirs.push(repo);
  repo.write("Pulumi.yaml", "name: smartfleet\nruntime: nodejs\n");
  const inventory = repo.write("examples/lab/fleet.yaml", fs.readFileSync(path.join(ROOT, "examples", "lab", "fleet.yaml"), "utf8"));
  const stack = repo.write("stacks/lab.yaml", fs.readFileSync(path.join(ROOT, "stacks", "lab.yaml"), "utf8"));
  const loaded = loadStackSync(stack);
  const report = checkStack(loaded);
  const env = writeLoadedStack(repo.dir, loaded, report);
  return { stack, inventory, loaded, report, env };
}

describe("the loaded stack handed to shard programs", () => {
  it("is taken for the same stack with unchanged files, declares what loading the files declares, and brings the command's policy report", () => {
    const { stack, loaded, report, env } = handedLab();
    const handed = handedOverStack(stack, env);
    expect(handed).toBeDefined();
    expect(resourceDeclarations(handed!.loaded)).toEqual(resourceDeclarations(loaded));
    expect(handed!.checked).toEqual(report);
    // Positions serve only the rules, which the command ran: they are not handed over.
    expect(Object.keys(loaded.sources).length).toBeGreaterThan(100);
    expect(handed!.loaded.sources).toEqual({});
  });

  it("is not taken for another stack file, or once the stack or its inventory changed", () => {
    const { stack, inventory, env } = handedLab();
    expect(handedOverStack(path.join(path.dirname(stack), "other.yaml"), env)).toBeUndefined();
    fs.appendFileSync(inventory, "\n# edited\n");
    expect(handedOverStack(stack, env)).toBeUndefined();
    const again = handedLab();
    fs.appendFileSync(again.stack, "\n# edited\n");
    expect(handedOverStack(again.stack, again.env)).toBeUndefined();
  });

  it("is nothing without the variable, or with a file that is gone or not one of ours", () => {
    const { stack, env } = handedLab();
    expect(handedOverStack(stack, {})).toBeUndefined();
    fs.writeFileSync(env[LOADED_STACK_ENV], "not json");
    expect(handedOverStack(stack, env)).toBeUndefined();
    fs.rmSync(env[LOADED_STACK_ENV]);
    expect(handedOverStack(stack, env)).toBeUndefined();
  });
});

describe("the gate of a program started before the stack was loaded", () => {
  const gateDir = () => {
    const dir = tempDir("sf-gate-");
    dirs.push(dir);
    return dir.dir;
  };

  it("lets a program on at once without a gate, and after go; go is final", () => {
    expect(() => awaitGate({})).not.toThrow();
    const gate = handoffGate(gateDir());
    gate.go();
    gate.stop("too late");
    expect(() => awaitGate(gate.env)).not.toThrow();
  });

  it("stops the program with the command's reason", () => {
    const gate = handoffGate(gateDir());
    gate.stop("the stack file is invalid");
    expect(() => awaitGate(gate.env)).toThrow(/^the stack file is invalid$/);
  });

  it("blocks until the verdict comes from another process", () => {
    const gate = handoffGate(gateDir());
    const file = gate.env[LOADED_STACK_GATE_ENV].replace(/^\d+:/, "");
    // The command's verdict, written 300 ms from now by a process this thread does not run.
    const writer = spawn("sh", ["-c", `sleep 0.3; printf go > "${file}.tmp" && mv "${file}.tmp" "${file}"`], { stdio: "ignore" });
    const t0 = Date.now();
    try {
      awaitGate(gate.env);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    } finally {
      writer.kill();
    }
  });

  it("fails when the command that started the program is gone without a verdict", () => {
    const gone = spawnSync("true").pid;
    const env = { [LOADED_STACK_GATE_ENV]: `${gone}:${path.join(gateDir(), "gate")}` };
    expect(() => awaitGate(env)).toThrow(`the smartfleet command (pid ${gone}) that started this run ended without loading the stack`);
  });
});
