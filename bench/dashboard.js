#!/usr/bin/env node
// Entry of the dashboard benchmark (`node bench/dashboard.js ...`): the code is TypeScript,
// bench/dashboard.ts, compiled with the project into dist/bench/dashboard.js.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const compiled = path.join(__dirname, "..", "dist", "bench", "dashboard.js");
if (!fs.existsSync(compiled)) {
  console.error("dashboard: dist/bench/dashboard.js is missing: run `npm run build` first");
  process.exit(2);
}
require(compiled);
