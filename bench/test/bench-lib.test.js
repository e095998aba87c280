// Checks of the benchmark's own logic (fleet generation, the floor provider, results
// shape, chart, request breakdown). Not part of `npm test`: run with
//   node --test bench/test/*.test.js
"use strict";
const assert = require("node:assert/strict");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const { test } = require("node:test");
const { benchAddress, writeBenchFleet, writeBenchStack } = require("../lib/fleet");
const { implementation: floor } = require("../lib/floor-provider");
const { buildResults } = require("../lib/results");
const { renderChart } = require("../lib/chart");
const { renderSummary } = require("../lib/summary");
const { median } = require("../lib/stats");
const { breakdown } = require("../lib/suite");

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "smartfleet-bench-test-"));

test("bench addresses start at 127.250.0.1 and never reach the blocks tests use", () => {
  assert.equal(benchAddress(0), "127.250.0.1");
  assert.equal(benchAddress(249), "127.250.0.250");
  assert.equal(benchAddress(250), "127.250.1.1");
  const seen = new Set();
  for (let i = 0; i < 5000; i++) {
    const address = benchAddress(i);
    const [a, b, c, d] = address.split(".").map(Number);
    assert.equal(a, 127);
    assert.ok(b >= 250 && b <= 255 && c <= 255 && d >= 1 && d <= 250, address);
    seen.add(address);
  }
  assert.equal(seen.size, 5000);
});

test("a fleet of 10 DPUs has 5 hosts with two DPUs, each with OS, two services and two devices, and one witness pair", () => {
  const dir = tmp();
  try {
    const fleet = writeBenchFleet(dir, 10, () => "a".repeat(64));
    assert.deepEqual({ hosts: fleet.hosts, pairs: fleet.pairs }, { hosts: 5, pairs: 1 });
    const inventory = fs.readFileSync(fleet.fleetFile, "utf8");
    assert.equal(inventory.match(/name: nic\d/g).length, 10);
    const stack = fs.readFileSync(fleet.stackFile, "utf8");
    assert.equal(stack.match(/hostPrivilege: restricted/g).length, 10);
    assert.equal(stack.match(/os: \{ image: esxi-arm/g).length, 10);
    assert.equal(stack.match(/dfw: \{ type: nsx-dfw/g).length, 10);
    assert.equal(stack.match(/vsan: \{ type: vsan-storage/g).length, 10);
    assert.equal(stack.match(/vnic0: /g).length + stack.match(/nvme0: /g).length, 20);
    assert.match(stack, /witness-0: .*primary: bh-0001\/nic1, secondary: bh-0002\/nic1/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the fleet-wide change rewrites every DPU's host privilege", () => {
  const dir = tmp();
  try {
    const { stackFile } = writeBenchFleet(dir, 6, () => "a".repeat(64));
    writeBenchStack(stackFile, 6, "privileged");
    const stack = fs.readFileSync(stackFile, "utf8");
    assert.equal(stack.match(/hostPrivilege: privileged/g).length, 6);
    assert.doesNotMatch(stack, /restricted/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("fails if the fleet size is odd: hosts carry two DPUs", () => {
  assert.throws(() => writeBenchFleet(tmp(), 7, () => ""), /even number/);
});

test("the floor provider reports a change only when an input other than the serialized provider differs", async () => {
  const olds = { __provider: "old text", target: { serial: "S1" }, hostPrivilege: "restricted" };
  assert.equal((await floor.diff("id", olds, { ...olds, __provider: "new text" })).changes, false);
  assert.equal((await floor.diff("id", olds, { ...olds, hostPrivilege: "privileged" })).changes, true);
  const created = await floor.create({ target: { serial: "S1" }, name: "dfw" });
  assert.equal((await floor.create({ target: { serial: "S1" }, name: "dfw" })).id, created.id);
  assert.deepEqual(created.outs, { target: { serial: "S1" }, name: "dfw" });
});

test("median of odd and even counts", () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

function sampleRaw() {
  const measurements = [];
  for (const run of [0, 1, 2]) {
    measurements.push({ scenario: "up", dpus: 100, tool: "smartfleet", seconds: 12 + run, run });
    measurements.push({ scenario: "up", dpus: 100, tool: "floor", seconds: 10 + run, run });
    measurements.push({ scenario: "change", dpus: 100, tool: "smartfleet", seconds: 8, run });
    measurements.push({ scenario: "change", dpus: 100, tool: "ansible-forks5", seconds: 60, run });
  }
  const counters = [0, 1, 2].map((run) => ({ scenario: "refresh", dpus: 100, run, tool: "smartfleet", managementRequests: 2180 + run, resources: 715, stateBytes: 715 * 5000, providerPeakRssMiB: 200 + run }));
  return { measurements, counters, checkpoints: [], requestBreakdown: [], cpuProfiles: [], failures: [], notes: [], loadAtStart: [1, 1, 1] };
}

test("results keep the rows and counters in exactly the shape issue #6 gives, with the targets computed from medians", () => {
  const opts = { dpus: [100], runs: 3, scenarios: new Set(["up", "refresh", "change"]), tools: new Set(["smartfleet", "floor", "ansible"]), parallel: 32, timeScale: 1 };
  const results = buildResults({ raw: sampleRaw(), opts, versions: {}, startedAt: new Date(), finishedAt: new Date(), scenarios: ["up", "preview", "refresh", "change"], notes: [] });
  for (const row of results.rows) assert.deepEqual(Object.keys(row), ["scenario", "dpus", "tool", "runs", "median"]);
  for (const c of results.counters) assert.deepEqual(Object.keys(c), ["scenario", "dpus", "managementRequests", "stateBytesPerResource", "providerPeakRssMiB"]);
  assert.deepEqual(results.rows.find((r) => r.tool === "smartfleet" && r.scenario === "up"), { scenario: "up", dpus: 100, tool: "smartfleet", runs: [12, 13, 14], median: 13 });
  assert.deepEqual(results.counters[0], { scenario: "refresh", dpus: 100, managementRequests: 2181, stateBytesPerResource: 5000, providerPeakRssMiB: 201 });
  const byName = Object.fromEntries(results.targets.map((t) => [t.target, t]));
  assert.equal(byName["up at time scale 0, smartfleet / floor"].reached, 1.18);
  assert.equal(byName["up at time scale 0, smartfleet / floor"].met, true);
  assert.equal(byName["same change, Ansible (default forks) / smartfleet"].reached, 7.5);
  assert.equal(byName["no-change refresh, management requests per DPU"].met, false);
  const svg = renderChart(results);
  assert.match(svg, /^<\?xml/);
  assert.equal((svg.match(/<circle /g) ?? []).length, results.rows.length);
  assert.match(renderSummary(results), /\| up \| 100 \| 13 \(12–14\) \| 11 \(10–12\)/);
});

test("the request breakdown masks member ids and counts by method and path", () => {
  const dir = tmp();
  const file = path.join(dir, "trace.txt");
  fs.writeFileSync(file, ["GET 127.250.0.1 /redfish/v1/Oem/SmartFleet/Services/dfw", "GET 127.250.0.2 /redfish/v1/Oem/SmartFleet/Services/vsan", "POST 127.250.0.1 /redfish/v1/SessionService/Sessions", ""].join("\n"));
  try {
    assert.deepEqual(breakdown(file), { "GET /redfish/v1/Oem/SmartFleet/Services/{id}": 2, "POST /redfish/v1/SessionService/Sessions": 1 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
