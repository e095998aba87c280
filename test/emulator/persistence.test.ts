import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { ManualClock } from "../../emulator/clock";
import { DURATIONS_MS } from "../../emulator/simulation";
import { monitorOf, NEW_PASSWORD, request, startTestFleet, tempStateDir, testImages, testInventory } from "./helpers";

const ROOT = path.resolve(__dirname, "../..");
const osUri = (testImages() ?? [])[0].uri;

describe("persistence", () => {
  it("keeps state across a restart; an install in flight ends Exception with a message, a reboot in flight resumes", async () => {
    const clock = new ManualClock();
    const stateDir = tempStateDir();
    const inventory = testInventory();
    let f = await startTestFleet({ stateDir, clock, inventory });
    await f.claim("NV1");
    await f.claim("AMD1");
    const install = monitorOf(await f.call("NV1", "POST", "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate", { ImageURI: osUri }));
    await f.call("AMD1", "PATCH", "/redfish/v1/Systems/Card1-SoC/Bios/Settings", { Attributes: { HostPrivilegeLevel: "Restricted" } });
    const reboot = monitorOf(await f.call("AMD1", "POST", "/redfish/v1/Systems/Card1-SoC/Actions/ComputerSystem.Reset", { ResetType: "ForceRestart" }));
    await f.advance(DURATIONS_MS.dpuReset / 3);
    await f.emu.stop();

    f = await startTestFleet({ stateDir, clock, inventory });
    try {
      const ended = (await f.call("NV1", "GET", install)).body;
      expect(ended.TaskState).toBe("Exception");
      expect(ended.Messages.map((m: { Message: string }) => m.Message).join(" ")).toMatch(/emulator restarted while the install ran/);
      expect((await f.call("NV1", "GET", "/redfish/v1/Oem/SmartFleet/DpuOs")).body.State).toBe("Absent");
      const running = await f.call("AMD1", "GET", reboot);
      expect(running.status).toBe(202);
      expect(running.body.PercentComplete).toBe(33);
      await f.advance(DURATIONS_MS.dpuReset);
      expect((await f.call("AMD1", "GET", reboot)).body.TaskState).toBe("Completed");
      expect((await f.call("AMD1", "GET", "/redfish/v1/Systems/Card1-SoC/Bios")).body.Attributes.HostPrivilegeLevel).toBe("Restricted");
    } finally {
      await f.emu.stop();
    }
  });

  describe("kill -9 of an emulator process", () => {
    const build = path.join(ROOT, ".tools", `emulator-test-build-${process.pid}`);
    let child: ChildProcess | undefined;
    beforeAll(() => {
      // The child runs compiled JavaScript, as the smartfleet command does.
      execFileSync(process.execPath, [
        path.join(ROOT, "node_modules/typescript/bin/tsc"),
        "--outDir", build, "--rootDir", ROOT, "--module", "commonjs", "--target", "ES2022", "--moduleResolution", "node",
        "--esModuleInterop", "--resolveJsonModule", "--skipLibCheck", "--strict", "--types", "node", "--lib", "ES2023",
        path.join(ROOT, "cli/main.ts"), path.join(ROOT, "cli/commands/emulator.ts"),
      ], { cwd: ROOT, stdio: "pipe" });
      for (const f of fs.readdirSync(path.join(ROOT, "schemas")).filter((x) => x.endsWith(".schema.json"))) {
        fs.copyFileSync(path.join(ROOT, "schemas", f), path.join(build, "schemas", f));
      }
    });
    afterAll(() => {
      if (child && child.exitCode === null) child.kill("SIGKILL");
      fs.rmSync(build, { recursive: true, force: true });
    });

    it("loses nothing that was acknowledged", async () => {
      const stateDir = tempStateDir();
      const inventory = testInventory();
      const file = path.join(stateDir, "fleet.yaml");
      fs.writeFileSync(file, stringify(inventory));
      child = spawn(process.execPath, [path.join(build, "cli/main.js"), "emulator", "start", "--inventory", file, "--state", stateDir, "--time-scale", "0"], { stdio: "pipe" });
      let output = "";
      child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
      child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
      const record = path.join(stateDir, "emulator.json");
      for (let i = 0; i < 600 && !fs.existsSync(record); i++) {
        if (child.exitCode !== null) throw new Error(`emulator exited: ${output}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(fs.existsSync(record)).toBe(true);
      const ca = fs.readFileSync(path.join(stateDir, "ca.pem"), "utf8");
      const endpoints = JSON.parse(fs.readFileSync(path.join(stateDir, "endpoints.json"), "utf8"));
      const url = endpoints.dpus[0].url as string;
      const auth: [string, string] = ["root", NEW_PASSWORD];
      expect((await request(ca, `${url}/redfish/v1/AccountService/Accounts/root`, { method: "PATCH", body: { Password: NEW_PASSWORD }, auth: ["root", "0penBmc"] })).status).toBe(200);
      expect((await request(ca, `${url}/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate`, { method: "POST", body: { ImageURI: osUri }, auth })).status).toBe(202);
      expect((await request(ca, `${url}/redfish/v1/Oem/SmartFleet/Services`, { method: "POST", body: { Id: "dfw", ServiceType: "nsx-dfw", Version: "4.2.1", Cores: 2, MemoryGiB: 2 }, auth })).status).toBe(202);
      expect((await request(ca, `${url}/redfish/v1/Oem/SmartFleet/HostDevices`, { method: "POST", body: { Id: "vnic0", Kind: "vnic", BackingService: "dfw" }, auth })).status).toBe(201);
      expect((await request(ca, `${url}/redfish/v1/Systems/Bluefield/Bios/Settings`, { method: "PATCH", body: { Attributes: { NicMode: "NicMode" } }, auth })).status).toBe(200);
      child.kill("SIGKILL");
      await new Promise((r) => child!.once("exit", r));

      const f = await startTestFleet({ stateDir, inventory });
      try {
        expect((await f.call("NV1", "GET", "/redfish/v1/Oem/SmartFleet/DpuOs")).body).toMatchObject({ Version: "8.0.3", State: "Enabled" });
        expect((await f.call("NV1", "GET", "/redfish/v1/Oem/SmartFleet/Services/dfw")).body.State).toBe("Enabled");
        expect((await f.call("NV1", "GET", "/redfish/v1/Oem/SmartFleet/HostDevices/vnic0")).body.BackingService).toBe("dfw");
        expect((await f.call("NV1", "GET", "/redfish/v1/Systems/Bluefield/Bios/Settings")).body.Attributes.NicMode).toBe("NicMode");
      } finally {
        await f.emu.stop();
      }
    });
  });
});
