import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it } from "vitest";
import { rememberSourcePositions } from "../../providers/common/source-positions";

type Frame = { file?: string; line?: number; column?: number };
type Statics = { callsites(): Frame[] };

/** Where a resource's constructor would ask: one call site for every `statics`. */
function declare(statics: Statics): Frame[] {
  return statics.callsites();
}

function elsewhere(statics: Statics): Frame[] {
  return statics.callsites();
}

/** Formats stacks as V8 does, counting how often a stack is formatted (what source-map-support costs). */
function countingFormatter(): { formatted: () => number } {
  let formatted = 0;
  Error.prepareStackTrace = (error, sites) => {
    formatted++;
    return `${String(error)}\n${sites.map((site) => `    at ${String(site)}`).join("\n")}`;
  };
  return { formatted: () => formatted };
}

const prepareBefore = Error.prepareStackTrace;
afterEach(() => {
  Error.prepareStackTrace = prepareBefore;
});

describe("rememberSourcePositions", () => {
  it("answers what the SDK answers for the same call path, formatting each path's stack once", () => {
    const counter = countingFormatter();
    const sdk: Statics = { callsites: pulumi.Resource.callsites };
    const remembered: Statics = { callsites: pulumi.Resource.callsites };
    rememberSourcePositions({}, remembered);

    // Stacks are counted before anything is asserted: an assertion formats one itself.
    // One call site for all four: the same call path each time.
    const [own, first, ...again] = [sdk, remembered, remembered, remembered].map((statics) => declare(statics));
    const formatted = counter.formatted();
    const other = elsewhere(remembered);
    const formattedOther = counter.formatted();
    Error.prepareStackTrace = prepareBefore;

    expect([formatted, formattedOther]).toEqual([2, 3]);
    expect(first.length).toBe(own.length);
    // Frame 0 is the SDK's own function; from frame 1 on, the caller's positions.
    expect(first.slice(1)).toEqual(own.slice(1));
    expect(first[1]).toMatchObject({ file: expect.stringContaining("source-positions.test"), line: expect.any(Number) });
    expect(again[0]).toEqual(first);
    expect(again[0]).not.toBe(again[1]);
    expect(other[1].line).not.toBe(first[1].line);
  });

  it("is installed once, and not at all with SMARTFLEET_SDK_SOURCE_POSITIONS=1", () => {
    const remembered: Statics = { callsites: pulumi.Resource.callsites };
    rememberSourcePositions({}, remembered);
    const installed = remembered.callsites;
    rememberSourcePositions({}, remembered);
    expect(remembered.callsites).toBe(installed);

    const sdk: Statics = { callsites: pulumi.Resource.callsites };
    rememberSourcePositions({ SMARTFLEET_SDK_SOURCE_POSITIONS: "1" }, sdk);
    expect(sdk.callsites).toBe(pulumi.Resource.callsites);
  });
});
