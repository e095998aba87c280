// Preloaded with `node --cpu-prof` in profiled benchmark runs: the engine stops the
// dynamic-provider process with a signal, and V8 writes a CPU profile only on a normal
// exit, so a signal here becomes process.exit().
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => process.exit(0));

export {};
