import * as fs from "node:fs";
import * as path from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { run as emulatorCommand } from "../../cli/commands/emulator";
import { run as generateFleet } from "../../cli/commands/generate-fleet";
import { loadInventory } from "../../model/inventory";
import { verifyImage } from "../../emulator/images";
import { tempStateDir } from "./helpers";

describe("smartfleet generate-fleet and emulator commands", () => {
  let errors: string[];
  let logs: string[];
  beforeEach(() => {
    errors = [];
    logs = [];
    vi.spyOn(console, "error").mockImplementation((...a: unknown[]) => void errors.push(a.join(" ")));
    vi.spyOn(console, "log").mockImplementation((...a: unknown[]) => void logs.push(a.join(" ")));
  });
  afterEach(() => vi.restoreAllMocks());

  it("writes a valid inventory with 127.1.x.y addresses, port 8443 and checksums that verify", async () => {
    const out = path.join(tempStateDir(), "fleet.yaml");
    expect(await generateFleet(["--hosts", "300", "--nics-per-host", "2", "--out", out])).toBe(0);
    const fleet = loadInventory(out);
    const nics = fleet.hosts.flatMap((h) => h.smartnics);
    expect(nics).toHaveLength(600);
    expect(nics[0].management).toEqual({ address: "127.1.0.1", port: 8443 });
    expect(nics[599].management.address).toBe("127.1.2.100");
    for (const image of fleet.images ?? []) expect(verifyImage(fleet.images ?? [], image.uri).error).toBeNull();
  });

  it("fails if generate-fleet misses --hosts or gets a bad count (exit 2)", async () => {
    expect(await generateFleet(["--nics-per-host", "2"])).toBe(2);
    expect(await generateFleet(["--hosts", "0", "--nics-per-host", "2"])).toBe(2);
    expect(errors.join("\n")).toMatch(/usage: smartfleet generate-fleet/);
  });

  it("reports a state dir without a running emulator as not running, and stop as a no-op", async () => {
    const state = tempStateDir();
    expect(await emulatorCommand(["status", "--state", state])).toBe(1);
    expect(logs.join("\n")).toMatch(/not running/);
    expect(await emulatorCommand(["stop", "--state", state])).toBe(0);
  });

  it("fails if start has no inventory, or the inventory is invalid", async () => {
    expect(await emulatorCommand(["start"])).toBe(2);
    const bad = path.join(tempStateDir(), "bad.yaml");
    fs.writeFileSync(bad, "apiVersion: smartfleet.dev/v1\nkind: Fleet\nmetadata: { name: x }\nhosts: []\n");
    expect(await emulatorCommand(["start", "--inventory", bad, "--state", tempStateDir()])).toBe(1);
    expect(errors.join("\n")).toMatch(/bad\.yaml:4:8/);
  });
});
