import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../support/pulumi";
import { request, testInventory } from "./helpers";

/**
 * A user's clone has no DMTF reference bundle beside it (the bundle exists only on our
 * build machines): the emulator must serve everything, error bodies and $metadata
 * included, from its own tree.
 */
describe("the emulator outside a checkout with the DMTF bundle beside it", () => {
  const top = fs.mkdtempSync(path.join(os.tmpdir(), "smartfleet-selfcontained-"));
  const tree = path.join(top, "smartfleet");
  let child: ReturnType<typeof spawn> | undefined;
  afterAll(() => {
    child?.kill("SIGKILL");
    fs.rmSync(top, { recursive: true, force: true });
  });

  it("answers a Redfish error with a Base registry message and serves $metadata", async () => {
    expect(fs.existsSync(path.join(top, "shared"))).toBe(false);
    fs.mkdirSync(tree);
    for (const part of ["dist", "package.json", "schemas", "emulator/schema"]) {
      fs.cpSync(path.join(repoRoot, part), path.join(tree, part), { recursive: true });
    }
    fs.symlinkSync(path.join(repoRoot, "node_modules"), path.join(tree, "node_modules"), "dir");
    const inventory = testInventory();
    const stateDir = path.join(top, "state");
    const script = `
      const { startEmulator } = require(${JSON.stringify(path.join(tree, "dist/emulator/index.js"))});
      startEmulator({ inventory: ${JSON.stringify(inventory)}, stateDir: ${JSON.stringify(stateDir)}, timeScale: 0 })
        .then((emu) => console.log(JSON.stringify({ url: emu.endpoints.dpus[0].url, ca: emu.caPem })))
        .catch((err) => { console.error(err); process.exit(1); });`;
    child = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "pipe"] });
    const started = await new Promise<{ url: string; ca: string }>((resolve, reject) => {
      let out = "";
      let err = "";
      child!.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("\n")) resolve(JSON.parse(out.split("\n")[0]) as { url: string; ca: string });
      });
      child!.stderr!.on("data", (d: Buffer) => (err += d.toString()));
      child!.on("exit", (code) => reject(new Error(`emulator exited ${code}: ${err}`)));
    });

    const missing = await request(started.ca, `${started.url}/redfish/v1/NoSuchThing`);
    expect(missing.status).toBe(404);
    const info = (missing.body as { error: { "@Message.ExtendedInfo": Array<{ MessageId: string }> } }).error["@Message.ExtendedInfo"];
    expect(info[0].MessageId).toMatch(/^Base\.1\.\d+\.\d+\.ResourceMissingAtURI$/);

    const metadata = await request(started.ca, `${started.url}/redfish/v1/$metadata`);
    expect(metadata.status).toBe(200);
    expect(metadata.text).toContain("ComputerSystem_v1.xml");
    expect(metadata.text).toContain("SmartFleet_v1.xml");
  });
});
