// The floor: a dynamic-provider implementation that does nothing. The benchmark installs
// it as every kind's `dist/providers/<kind>.js` in a copy of the project, so the engine
// sees the same program, the same resource graph, types and inputs, the same serialized
// provider and backend, and only the work on the management ports is gone. What remains
// is Pulumi's own cost: engine, gRPC to the language host and the provider, checkpoints.
"use strict";
const { isDeepStrictEqual } = require("node:util");
const { createHash } = require("node:crypto");

/** The property the dynamic-provider host keeps the serialized provider in. */
const PROVIDER_KEY = "__provider";

/** Input properties whose values differ between `olds` and `news`. */
function changedKeys(olds, news) {
  const keys = new Set([...Object.keys(olds ?? {}), ...Object.keys(news ?? {})]);
  keys.delete(PROVIDER_KEY);
  return [...keys].filter((k) => k in (news ?? {}) && !isDeepStrictEqual(olds?.[k], news[k]));
}

/** A stable id from the inputs, like a real kind derives one from serial and name. */
function idOf(inputs) {
  return createHash("sha256").update(JSON.stringify(inputs.target ?? inputs.name ?? inputs)).digest("hex").slice(0, 16);
}

/** The no-op implementation every kind gets in the floor project. */
const implementation = {
  kind: "floor",
  async configure() {},
  async check(_olds, news) {
    return { inputs: news };
  },
  async diff(_id, olds, news) {
    const changes = changedKeys(olds, news);
    return { changes: changes.length > 0, replaces: [], deleteBeforeReplace: false };
  },
  async create(inputs) {
    return { id: idOf(inputs), outs: inputs };
  },
  async read(id, props) {
    return { id, props };
  },
  async update(_id, _olds, news) {
    return { outs: news };
  },
  async delete() {},
};

module.exports = { implementation };
