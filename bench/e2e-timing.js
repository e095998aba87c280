#!/usr/bin/env node
// Entry of the timing run (`node bench/e2e-timing.js ...`): the code is TypeScript,
// bench/e2e-timing.ts, compiled with the project into dist/bench/e2e-timing.js.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const compiled = path.join(__dirname, "..", "dist", "bench", "e2e-timing.js");
if (!fs.existsSync(compiled)) {
  console.error("e2e-timing: dist/bench/e2e-timing.js is missing: run `npm run build` first");
  process.exit(2);
}
require(compiled);
