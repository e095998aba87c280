// Preloaded (NODE_OPTIONS=--require) into the processes a traced benchmark run starts:
// appends one line per HTTPS request — method, port, path with ids masked — to the file
// in BENCH_TRACE_FILE, so a scenario's management requests can be broken down by kind.
import fs = require("node:fs");
// The module object itself (not an import copy): its `request` is what gets replaced.
import https = require("node:https");

type RequestOptions = { method?: string; pathname?: string; path?: string; hostname?: string; host?: string };

const file = process.env.BENCH_TRACE_FILE;
if (file) {
  const mutable = https as unknown as { request: (...args: unknown[]) => unknown };
  const original = mutable.request;
  mutable.request = function tracedRequest(this: unknown, ...args: unknown[]) {
    const first = args[0];
    const options = (typeof first === "string" || first instanceof URL ? new URL(first) : first) as RequestOptions;
    const withMethod = args.find((a): a is RequestOptions => !!a && typeof a === "object" && !(a instanceof URL) && !!(a as RequestOptions).method);
    const method = (withMethod?.method ?? options.method ?? "GET").toUpperCase();
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

export {};
