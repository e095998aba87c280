import { defineConfig } from "vitest/config";

/** Test tiers live in test/<tier>/; `npm test` runs all but conformance. */
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/conformance/**", "node_modules/**", "dist/**"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 300_000,
    reporters: ["default"],
  },
});
