#!/usr/bin/env node
// `npm run pulumi -- ARGS`: the Pulumi CLI with the project's toolchain (this runs inside
// scripts/with-toolchain.sh). Every command goes to `pulumi` as it is, except `import`:
// smartfleet's resources are Pulumi dynamic resources, whose provider code reaches the
// engine only with a program run, so `pulumi import` fails deep in the dynamic-provider
// shim with a Node stack trace ("code must be a string, not undefined"). Adoption is `up`,
// and this says so instead.
"use strict";
const { spawn } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const args = process.argv.slice(2);

const IMPORT_HELP = `smartfleet: \`pulumi import\` cannot adopt smartfleet resources: they are Pulumi dynamic
resources, whose provider only a program run (preview, up, refresh) supplies.

Adoption is \`up\`: declare the hardware in the stack file (its inventory names each DPU by
serial and management address), then

  npx smartfleet plan --stack NAME      # reads each DPU live and shows what up will do; changes nothing
  npm run pulumi -- up --stack NAME     # claims each DPU (its factory password, or the management
                                        # password when it is claimed already) and brings it to the stack`;

/** The pulumi sub-command: the first argument that is not an option or an option's value. */
function subcommand(argv) {
  const valued = new Set(["--stack", "-s", "--cwd", "-C", "--color", "--tracing", "--profiling", "--logflow", "--verbose", "-v"]);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith("-")) {
      if (valued.has(a)) i++;
      continue;
    }
    return a;
  }
  return undefined;
}

if (subcommand(args) === "import") {
  console.error(IMPORT_HELP);
  process.exit(2);
}
// The engine watch from the first moment of each dynamic-provider process, as `smartfleet` does
// (providers/common/engine-watch-preload.ts; compiled by `npm ci`).
const preload = path.join(__dirname, "..", "dist", "providers", "common", "engine-watch-preload.js");
const nodeOptions = fs.existsSync(preload) ? require(preload).withEngineWatchPreload(process.env.NODE_OPTIONS) : process.env.NODE_OPTIONS;
// And Node's compile cache for the program and provider processes (providers/common/compile-cache.ts).
const compileCache = path.join(__dirname, "..", "dist", "providers", "common", "compile-cache.js");
const cacheDir = fs.existsSync(compileCache) ? require(compileCache).compileCacheDir(process.env) : undefined;
const child = spawn("pulumi", args, { stdio: "inherit", env: { ...process.env, ...(cacheDir ? { NODE_COMPILE_CACHE: cacheDir } : {}), ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}) } });
// A Ctrl-C reaches pulumi through the terminal's process group (its first one cancels
// gracefully); a signal sent to this process alone is passed on. Either way this process
// stays until pulumi is done, so the shell prompt never returns in the middle of a cancel.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  });
}
child.on("error", (err) => {
  console.error(`smartfleet: cannot run pulumi: ${err.message} (see scripts/toolchain.sh)`);
  process.exit(2);
});
child.on("exit", (code, signal) => {
  process.exit(code ?? 128 + (signal ? require("node:os").constants.signals[signal] : 1));
});
