import { vi } from "vitest";

/** What a command printed and returned. */
export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command's `run(args)` in-process, capturing what it writes to stdout and stderr. */
export async function capture(run: (args: string[]) => Promise<number>, args: string[]): Promise<Outcome> {
  let stdout = "";
  let stderr = "";
  const spies = [
    vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void (stdout += a.join(" ") + "\n")),
    vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void (stderr += a.join(" ") + "\n")),
    vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)),
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)),
  ];
  try {
    return { code: await run(args), stdout, stderr };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}
