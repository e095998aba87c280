#!/usr/bin/env node
// Entry point of `npm run codegen`: runs schemas/codegen/generate.ts straight from source
// (no build needed right after `npm ci`) by transpiling TypeScript on require.
"use strict";
const fs = require("node:fs");
const path = require("node:path");
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
process.exitCode = runCodegen(process.argv.slice(2), path.join(root, "schemas"));
