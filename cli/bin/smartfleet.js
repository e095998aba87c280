#!/usr/bin/env node
// Entry point of the `smartfleet` command. smartfleet needs Node.js >= 22 (node:sqlite,
// current @pulumi/pulumi); when started by an older node (e.g. `npx smartfleet` on a
// machine with Node 20), it asks scripts/toolchain.sh for the toolchain and re-executes
// itself there. Plain JavaScript so that any node can run this much.
"use strict";
const path = require("node:path");
const fs = require("node:fs");
const { spawnSync } = require("node:child_process");

const root = path.resolve(__dirname, "..", "..");
const major = Number(process.versions.node.split(".")[0]);

if (major < 22 || !process.env.SMARTFLEET_ROOT) {
  if (process.env.SMARTFLEET_REEXEC) {
    console.error(`smartfleet: still on Node ${process.versions.node} after bootstrapping; see scripts/toolchain.sh`);
    process.exit(2);
  }
  const result = spawnSync(
    path.join(root, "scripts", "with-toolchain.sh"),
    ["node", __filename, ...process.argv.slice(2)],
    { stdio: "inherit", env: { ...process.env, SMARTFLEET_REEXEC: "1" } },
  );
  if (result.error) {
    console.error(`smartfleet: cannot start the toolchain: ${result.error.message}`);
    process.exit(2);
  }
  process.exit(result.status ?? 1);
}

const compiled = path.join(root, "dist", "cli", "main.js");
if (!fs.existsSync(compiled)) {
  console.error(`smartfleet: ${path.relative(process.cwd(), compiled)} is missing; run \`npm run build\` (npm ci does it)`);
  process.exit(2);
}
require(compiled)
  .main(process.argv.slice(2))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      console.error(`smartfleet: ${err && err.message ? err.message : String(err)}`);
      process.exitCode = 2;
    },
  );
