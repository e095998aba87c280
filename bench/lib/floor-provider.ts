// The floor: a dynamic-provider implementation that does nothing. The benchmark installs
// it as every kind's `dist/providers/<kind>.js` in a copy of the project, so the engine
// sees the same program, the same resource graph, types and inputs, the same serialized
// provider and backend, and only the work on the management ports is gone. What remains
// is Pulumi's own cost: engine, gRPC to the language host and the provider, checkpoints.
// Copied alone into the floor project: it imports nothing but Node's own modules.
import { isDeepStrictEqual } from "node:util";
import { createHash } from "node:crypto";

type Inputs = Record<string, unknown>;

/** The property the dynamic-provider host keeps the serialized provider in. */
const PROVIDER_KEY = "__provider";

/** Input properties whose values differ between `olds` and `news`. */
function changedKeys(olds: Inputs | undefined, news: Inputs | undefined): string[] {
  const keys = new Set([...Object.keys(olds ?? {}), ...Object.keys(news ?? {})]);
  keys.delete(PROVIDER_KEY);
  return [...keys].filter((k) => k in (news ?? {}) && !isDeepStrictEqual(olds?.[k], news![k]));
}

/** A stable id from the inputs, like a real kind derives one from serial and name. */
function idOf(inputs: Inputs): string {
  return createHash("sha256").update(JSON.stringify(inputs.target ?? inputs.name ?? inputs)).digest("hex").slice(0, 16);
}

/** The no-op implementation every kind gets in the floor project. */
export const implementation = {
  kind: "floor",
  async configure(): Promise<void> {},
  async check(_olds: Inputs, news: Inputs): Promise<{ inputs: Inputs }> {
    return { inputs: news };
  },
  async diff(_id: string, olds: Inputs, news: Inputs): Promise<{ changes: boolean; replaces: string[]; deleteBeforeReplace: boolean }> {
    const changes = changedKeys(olds, news);
    return { changes: changes.length > 0, replaces: [], deleteBeforeReplace: false };
  },
  async create(inputs: Inputs): Promise<{ id: string; outs: Inputs }> {
    return { id: idOf(inputs), outs: inputs };
  },
  async read(id: string, props: Inputs): Promise<{ id: string; props: Inputs }> {
    return { id, props };
  },
  async update(_id: string, _olds: Inputs, news: Inputs): Promise<{ outs: Inputs }> {
    return { outs: news };
  },
  async delete(): Promise<void> {},
};
