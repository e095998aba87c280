#!/usr/bin/env node
// The main job, end to end: start the emulated lab fleet, `pulumi up` stacks/lab.yaml
// against it with the project's toolchain and a local backend, print the stack outputs
// and where to look, then stop the emulator (or keep it with --keep).
//
//   npm run demo [-- --keep] [-- --time-scale X] [-- --stack NAME]
//
// Runs inside scripts/with-toolchain.sh (Node >= 22 and pulumi on PATH). Plain
// JavaScript: it needs only the compiled dist/ that `npm ci` builds.
"use strict";
const { spawnSync } = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const path = require("node:path");
const util = require("node:util");

const root = path.resolve(__dirname, "..");
const demoDir = path.join(root, ".smartfleet", "demo");
const emulatorState = path.join(demoDir, "emulator");
const inventory = path.join(root, "examples", "lab", "fleet.yaml");
const stackFile = path.join(root, "stacks", "lab.yaml");

const USAGE = `usage: npm run demo -- [--keep] [--time-scale X] [--stack NAME]
  --keep            leave the emulator running afterwards
  --time-scale X    emulator time scale (default 0.02)
  --stack NAME      Pulumi stack name (default demo)
  -h, --help        show this help`;

/** Parses `--keep`, `--time-scale X`, `--stack NAME`; exits 0 after --help, 2 on a usage error. */
function parseArgs(argv) {
  const fail = (message) => {
    console.error(`demo: ${message}\n${USAGE}`);
    process.exit(2);
  };
  let values;
  try {
    ({ values } = util.parseArgs({
      args: argv,
      options: {
        keep: { type: "boolean", default: false },
        "time-scale": { type: "string", default: "0.02" },
        stack: { type: "string", default: "demo" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (err) {
    fail(err.message);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const opts = { keep: values.keep, timeScale: values["time-scale"], stack: values.stack };
  if (!/^\d+(\.\d+)?$/.test(opts.timeScale)) fail(`--time-scale takes a number >= 0, got '${opts.timeScale}'`);
  return opts;
}

/** Runs a command with the terminal attached; exits the demo when it fails. */
function run(cmd, args, { input, capture } = {}) {
  const result = spawnSync(cmd, args, {
    cwd: root,
    input,
    encoding: "utf8",
    stdio: [input === undefined ? "inherit" : "pipe", capture ? "pipe" : "inherit", "inherit"],
  });
  if (result.error) throw new Error(`${cmd}: ${result.error.message}`);
  if (result.status !== 0) {
    const err = new Error(`${cmd} ${args.join(" ")} exited with ${result.status}`);
    err.exitCode = result.status;
    throw err;
  }
  return result.stdout;
}

const smartfleet = (...args) => run(process.execPath, [path.join(root, "cli", "bin", "smartfleet.js"), ...args]);
const pulumi = (args, opts) => run("pulumi", args, opts);

/** The password the provider sets on every management account it claims, made once. */
function managementPassword() {
  const file = path.join(demoDir, "management-password");
  if (!fs.existsSync(file)) {
    fs.mkdirSync(demoDir, { recursive: true });
    fs.writeFileSync(file, `Sf-${crypto.randomBytes(12).toString("base64url")}`, { mode: 0o600 });
  }
  return fs.readFileSync(file, "utf8").trim();
}

function configureStack(opts, endpointsFile, caFile) {
  pulumi(["stack", "select", "--create", opts.stack, "--non-interactive"]);
  const set = (key, value) => pulumi(["config", "set", "--stack", opts.stack, key, value]);
  set("smartfleet:stackFile", path.relative(root, stackFile));
  set("smartfleet:endpoints", endpointsFile);
  set("smartfleet:caFile", caFile);
  // Through stdin, so the password never shows in a process list.
  pulumi(["config", "set", "--stack", opts.stack, "--secret", "smartfleet:managementPassword"], {
    input: managementPassword(),
  });
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  console.log(`== starting the emulated lab fleet (${path.relative(root, inventory)}, time scale ${opts.timeScale})`);
  smartfleet("emulator", "start", "--inventory", inventory, "--state", emulatorState,
    "--time-scale", opts.timeScale, "--detach");
  let failed = false;
  try {
    const endpointsFile = path.join(emulatorState, "endpoints.json");
    const endpoints = JSON.parse(fs.readFileSync(endpointsFile, "utf8"));
    configureStack(opts, endpointsFile, endpoints.caFile);
    console.log(`== pulumi up (stack ${opts.stack}, ${path.relative(root, stackFile)})`);
    pulumi(["up", "--yes", "--skip-preview", "--stack", opts.stack, "--parallel", "32"]);
    console.log("== stack outputs");
    process.stdout.write(pulumi(["stack", "output", "--json", "--stack", opts.stack], { capture: true }));
    console.log("\n== where to look");
    console.log(`  admin API     ${endpoints.adminUrl} (token in ${path.relative(root, path.join(emulatorState, "admin-token"))})`);
    console.log(`  endpoints     ${path.relative(root, endpointsFile)}`);
    console.log(`  pulumi state  ${process.env.PULUMI_BACKEND_URL}`);
    console.log(`  emulator db   ${path.relative(root, emulatorState)}`);
  } catch (err) {
    failed = true;
    console.error(`demo: ${err.message}`);
  } finally {
    if (opts.keep && !failed) {
      console.log(`\nThe emulator keeps running: npx smartfleet emulator stop --state ${path.relative(root, emulatorState)}`);
    } else {
      smartfleet("emulator", "stop", "--state", emulatorState);
    }
  }
  process.exitCode = failed ? 1 : 0;
}

main();
