import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { compileCacheDir } from "../../providers/common/compile-cache";

const ROOT = path.resolve(__dirname, "..", "..");
const CLI = path.join(ROOT, "dist", "cli", "main.js");

/** Files under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
}

describe("Node's compile cache for the processes of a run", () => {
  it("lives in smartfleet's cache folder unless NODE_COMPILE_CACHE names another; off with the rest of that folder", () => {
    expect(compileCacheDir({ XDG_CACHE_HOME: "/c" })).toBe(path.join("/c", "smartfleet", "node-compile-cache"));
    expect(compileCacheDir({ HOME: os.homedir() })).toBe(path.join(os.homedir(), ".cache", "smartfleet", "node-compile-cache"));
    expect(compileCacheDir({ XDG_CACHE_HOME: "/c", NODE_COMPILE_CACHE: "/elsewhere" })).toBe("/elsewhere");
    expect(compileCacheDir({ SMARTFLEET_CACHE_DIR: "/s" })).toBe(path.join("/s", "node-compile-cache"));
    expect(compileCacheDir({ SMARTFLEET_CACHE_DIR: "" })).toBeUndefined();
  });

  it("`smartfleet` fills it as it runs, and hands it to the Node processes it starts", () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "smartfleet-ncc-"));
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, XDG_CACHE_HOME: cache };
      delete env.NODE_COMPILE_CACHE;
      delete env.NODE_DISABLE_COMPILE_CACHE;
      delete env.SMARTFLEET_CACHE_DIR;
      // A child as Pulumi would start one: it loads a module and reports the cache it was given.
      const grandchild = 'require("yaml"); console.log(process.env.NODE_COMPILE_CACHE)';
      const child = `require(${JSON.stringify(CLI)}).main(["--version"]).then(() => console.log(require("node:child_process").execFileSync(process.execPath, ["-e", ${JSON.stringify(grandchild)}], { encoding: "utf8" }).trim()))`;
      const lines = execFileSync(process.execPath, ["-e", child], { cwd: ROOT, env, encoding: "utf8" }).trim().split("\n");
      const dir = path.join(cache, "smartfleet", "node-compile-cache");
      expect(lines.at(-1)).toBe(dir);
      expect(filesUnder(dir).length).toBeGreaterThan(0);
    } finally {
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });
});
