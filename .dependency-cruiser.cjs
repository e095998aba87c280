/**
 * Import rules for smartfleet (`npm run lint:imports`, also a step of `npm test`).
 *
 * Each top-level folder is one layer; a file imports only from its own layer or a lower one:
 *   1 schemas/    JSON Schemas, generated types, validation, diagnostics, kind table, paths
 *   2 model/      stack YAML -> loaded stack -> resource declarations (pure; no @pulumi/*)
 *   3 policies/   rules + reports over model/ and schemas/
 *   4 providers/  kind framework + one file per kind; providers/redfish/ (the Redfish
 *                 client) is a lower sub-layer that never imports the rest of providers/
 *   5 stacks/     the Pulumi program; may import 1-4
 *   6 emulator/   the emulated fleet, a test double of hardware: imports schemas/, model/ only.
 *                 Inside: core files (model, simulation, store, ...) < emulator/redfish/
 *                 renderers < the servers that wire them (index, admin, port-server)
 *   7 cli/        the `smartfleet` command; may import 1-6 except stacks/ (run by Pulumi).
 *                 cli/graph/ (topology renderers and layout, shared by `graph` and the
 *                 dashboard) is a lower sub-layer: it never imports the commands nor policies/, emulator/;
 *                 cli/dashboard/ (the dashboard's server and page) never imports the commands nor emulator/
 *   8 bench/ scripts/ examples/ test/   top: may import anything; nothing below imports
 *                 them, and nothing outside test/ imports test/
 * No import cycles anywhere, type-only imports included (tsPreCompilationDeps).
 * Paths are relative to the directory depcruise runs in (the repo root).
 */
"use strict";

const TOP = "^(bench|scripts|examples)/";
// emulator/ files that compose the core model and the Redfish renderers into servers.
const EMULATOR_SERVERS = "^emulator/(index|admin|port-server)\\.ts$";

/** One rule per layer boundary: files under `from` must not import anything under `to`. */
function layer(name, comment, from, to) {
  return { name, comment, severity: "error", from: { path: from }, to: { path: to } };
}

module.exports = {
  forbidden: [
    layer(
      "schemas-is-the-bottom-layer",
      "schemas/ is layer 1: it imports nothing from another layer.",
      "^schemas/",
      "^(model|policies|providers|stacks|emulator|cli)/",
    ),
    layer(
      "model-imports-only-schemas",
      "model/ is layer 2: it may import schemas/ only.",
      "^model/",
      "^(policies|providers|stacks|emulator|cli)/",
    ),
    {
      name: "model-is-pure-no-pulumi",
      comment: "model/ is pure data processing: no @pulumi/* import (type-only imports included).",
      severity: "error",
      from: { path: "^model/" },
      to: { path: "(^|/)node_modules/@pulumi/" },
    },
    layer(
      "policies-read-only-model-and-schemas",
      "policies/ is layer 3: it reads model/ and schemas/, never providers/, stacks/, emulator/, cli/.",
      "^policies/",
      "^(providers|stacks|emulator|cli)/",
    ),
    layer(
      "providers-not-policies-or-above",
      "providers/ is layer 4: it may import schemas/ and model/, not policies/ nor anything above.",
      "^providers/",
      "^(policies|stacks|emulator|cli)/",
    ),
    {
      name: "providers-redfish-is-lower-sub-layer",
      comment:
        "providers/redfish/ (the Redfish client) is below the kind framework: it never imports " +
        "providers/*.ts or providers/common/**.",
      severity: "error",
      from: { path: "^providers/redfish/" },
      to: { path: "^providers/", pathNot: "^providers/redfish/" },
    },
    layer(
      "stacks-not-emulator-or-cli",
      "stacks/ is layer 5 (the Pulumi program): it may import schemas/, model/, policies/, providers/.",
      "^stacks/",
      "^(emulator|cli)/",
    ),
    layer(
      "emulator-imports-only-schemas-and-model",
      "emulator/ is layer 6, a test double of hardware: it imports schemas/ and model/ only, " +
        "never providers/, policies/, stacks/, cli/.",
      "^emulator/",
      "^(policies|providers|stacks|cli)/",
    ),
    {
      name: "emulator-core-below-redfish-renderers",
      comment:
        "emulator core files (model, simulation, store, clock, ...) are what the emulator/redfish/ " +
        "renderers draw on: they never import the renderers or the servers.",
      severity: "error",
      from: { path: "^emulator/[^/]+\\.ts$", pathNot: EMULATOR_SERVERS },
      to: { path: ["^emulator/redfish/", EMULATOR_SERVERS] },
    },
    layer(
      "emulator-redfish-below-servers",
      "emulator/redfish/ renderers never import the servers that mount them (index, admin, port-server).",
      "^emulator/redfish/",
      EMULATOR_SERVERS,
    ),
    layer(
      "cli-graph-below-commands",
      "cli/graph/ draws topologies for more than one command: it never imports cli/commands/, " +
        "cli/main.ts or cli/args.ts, nor policies/ or emulator/.",
      "^cli/graph/",
      "^(cli/(commands/|main\\.ts$|args\\.ts$)|policies/|emulator/)",
    ),
    layer(
      "cli-dashboard-below-commands",
      "cli/dashboard/ (the dashboard's server, refresh loop and page) is a library of the dashboard " +
        "command: it never imports cli/commands/, cli/main.ts or cli/args.ts, nor emulator/ (it reads " +
        "real ports through the providers' Redfish client, never the emulator's internals).",
      "^cli/dashboard/",
      "^(cli/(commands/|main\\.ts$|args\\.ts$)|emulator/)",
    ),
    layer(
      "cli-not-stacks",
      "cli/ is layer 7: it may import every lower layer except stacks/, which Pulumi runs.",
      "^cli/",
      "^stacks/",
    ),
    {
      name: "nothing-imports-top-layer",
      comment: "bench/, scripts/ and examples/ are the top layer: no layer below imports them.",
      severity: "error",
      from: { pathNot: "^(bench|scripts|examples|test)/" },
      to: { path: TOP },
    },
    {
      name: "nothing-imports-test",
      comment: "test/ is top layer: nothing outside test/ imports it.",
      severity: "error",
      from: { pathNot: "^test/" },
      to: { path: "^test/" },
    },
    {
      name: "no-build-output-imports",
      comment: "Sources import sources: importing dist/ would step around every rule above.",
      severity: "error",
      from: { pathNot: "^dist/" },
      to: { path: "^dist/" },
    },
    {
      name: "no-circular",
      comment: "No two files import each other, directly or through a loop (type-only imports count).",
      severity: "error",
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    tsConfig: { fileName: "tsconfig.json" },
    tsPreCompilationDeps: true,
    doNotFollow: { path: ["(^|/)node_modules/", "^dist/"] },
    exclude: { path: "(^|/)\\.(work|smartfleet|pulumi)/" },
    moduleSystems: ["cjs", "es6"],
    enhancedResolveOptions: {
      extensions: [".ts", ".d.ts", ".js", ".cjs", ".mjs", ".json"],
    },
    skipAnalysisNotInRules: true,
    reporterOptions: { text: { highlightFocused: true } },
  },
};
