/** Helpers for tests that write small stacks next to the example fleet inventory. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { expect } from "vitest";
import { InputError, type StackError } from "../../schemas/diagnostics";
import { loadStackSync, type LoadedStack, type LoadOptions } from "../../model/load";

/** The example inventory every test stack refers to. */
export const FLEET = path.resolve(__dirname, "..", "..", "examples", "stacks", "fleet.yaml");

/** A temporary directory removed by `cleanup`. */
export function tempDir(prefix: string): { dir: string; write(name: string, text: string): string; cleanup(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return {
    dir,
    write(name, text) {
      const file = path.join(dir, name);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, text);
      return file;
    },
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** A stack document header (4 lines) referring to the example fleet; the body starts on line 5. */
export function stackText(body: string, name = "test"): string {
  return `apiVersion: smartfleet.dev/v1\nkind: Stack\nmetadata: { name: ${name} }\ninventory: ${JSON.stringify(FLEET)}\n${body}`;
}

/** Loads a stack, expecting success. */
export function load(file: string, options: LoadOptions = {}): LoadedStack {
  return loadStackSync(file, options);
}

/** Runs `work`, expecting an InputError; returns its errors. */
export function inputErrorsOf(work: () => unknown): StackError[] {
  try {
    work();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as InputError).errors;
  }
  throw new Error("expected an InputError");
}
