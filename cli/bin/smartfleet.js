#!/usr/bin/env node
// Entry point of the `smartfleet` command. The commands that only read files (check,
// render, graph, help, --version) run on the node that started this one (>= 20, the
// package's engines): a CI job checking stacks needs neither Go nor Pulumi. The others need
// Node.js >= 22 (node:sqlite, current @pulumi/pulumi) and the Pulumi CLI; for those,
// when not started inside the toolchain (e.g. `npx smartfleet` on a machine with Node 20),
// it asks scripts/toolchain.sh for the toolchain and re-executes itself there. Plain
// JavaScript so that any node can run this much.
"use strict";
const path = require("node:path");
const fs = require("node:fs");
const { spawnSync } = require("node:child_process");

const root = path.resolve(__dirname, "..", "..");
const major = Number(process.versions.node.split(".")[0]);
const args = process.argv.slice(2);

/** Commands that read files and print: no Pulumi, no node:sqlite, any Node.js >= 20 (graph without --live). */
const FILE_ONLY = new Set(["check", "render", "graph", "help"]);

/** The command name: the first argument that is not an option (none: the help). */
function commandOf(argv) {
  return argv.find((a) => !a.startsWith("-"));
}

/** `graph --live` reads the stack's configuration through Pulumi: it needs the toolchain. */
function needsToolchain(argv) {
  const name = commandOf(argv);
  if (name === "graph") return argv.some((a) => a === "--live" || a.startsWith("--live="));
  return name !== undefined && !FILE_ONLY.has(name);
}

if (major < 20) {
  console.error(`smartfleet: Node.js ${process.versions.node} is too old; install Node.js 20 or newer`);
  process.exit(2);
}

if (needsToolchain(args) && (major < 22 || !process.env.SMARTFLEET_ROOT)) {
  if (process.env.SMARTFLEET_REEXEC) {
    console.error(`smartfleet: still on Node ${process.versions.node} after bootstrapping; see scripts/toolchain.sh`);
    process.exit(2);
  }
  const result = spawnSync(
    path.join(root, "scripts", "with-toolchain.sh"),
    ["node", __filename, ...args],
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
  .main(args)
  .then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      console.error(`smartfleet: ${err && err.message ? err.message : String(err)}`);
      process.exitCode = 2;
    },
  );
