#!/usr/bin/env node
// Entry point of `npm run codegen`: runs schemas/codegen/generate.ts straight from source
// (no build needed right after `npm ci`) by transpiling TypeScript on require.
//
//   npm run codegen [-- --check]
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const util = require("node:util");

const USAGE = `usage: npm run codegen [-- --check]
  --check     only check that schemas/generated/ is up to date (exit 1 when not)
  -h, --help  show this help`;

let values;
try {
  ({ values } = util.parseArgs({ args: process.argv.slice(2), options: { check: { type: "boolean" }, help: { type: "boolean", short: "h" } } }));
} catch (err) {
  console.error(`codegen: ${err.message}\n${USAGE}`);
  process.exit(2);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

const ts = require("typescript");
const root = path.resolve(__dirname, "..");
require.extensions[".ts"] = (module, filename) => {
  const source = fs.readFileSync(filename, "utf8");
  const { outputText } = ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  });
  module._compile(outputText, filename);
};

const { runCodegen } = require(path.join(root, "schemas", "codegen", "generate.ts"));
process.exitCode = runCodegen(values.check ? ["--check"] : [], path.join(root, "schemas"));
