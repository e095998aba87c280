import * as path from "node:path";
import { defineConfig } from "vitest/config";

/** Test tiers live in test/<room>/; `npm test` runs all but conformance. */
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/conformance/**", "node_modules/**", "dist/**"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 300_000,
    reporters: ["default"],
    // Tests write stacks into temporary folders that name the example inventories: allow those
    // folders explicitly, as a user would (an inventory outside the stack's repository is refused).
    // Parsed large files are cached beside the other tool caches, not in the user's own cache.
    env: {
      SMARTFLEET_INVENTORY_PATH: [path.resolve("examples"), path.resolve("test", "fixtures")].join(path.delimiter),
      SMARTFLEET_CACHE_DIR: path.resolve("node_modules", ".cache", "smartfleet"),
    },
  },
});
