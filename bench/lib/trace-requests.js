// Preloaded (NODE_OPTIONS=--require) into the processes a traced benchmark run starts:
// appends one line per HTTPS request — method, port, path with ids masked — to the file
// in BENCH_TRACE_FILE, so a scenario's management requests can be broken down by kind.
"use strict";
const fs = require("node:fs");
const https = require("node:https");

const file = process.env.BENCH_TRACE_FILE;
if (file) {
  const original = https.request;
  https.request = function tracedRequest(...args) {
    const first = args[0];
    const options = typeof first === "string" || first instanceof URL ? new URL(first) : first;
    const method = (args.find((a) => a && typeof a === "object" && !(a instanceof URL) && a.method)?.method ?? options.method ?? "GET").toUpperCase();
    const where = options.pathname ?? options.path ?? "/";
    const host = options.hostname ?? options.host ?? "";
    try {
      fs.appendFileSync(file, `${method} ${host} ${where}\n`);
    } catch {
      // tracing must never break the run it observes
    }
    return original.apply(this, args);
  };
}
