/**
 * Factory passwords by reference (`passwordFrom: env:NAME | file:PATH`): read only where
 * they are used (declarations of an up, the emulator's factory state), never by `check`;
 * a missing variable or file is named with the DPU; plain `password` keeps working.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { run as check } from "../../cli/commands/check";
import { factoryState } from "../../emulator/simulation/factory";
import { verifyPassword } from "../../emulator/secrets";
import { CredentialError, factoryPassword } from "../../model/credentials";
import { resourceDeclarations } from "../../model/declarations";
import { loadInventory, placedDpus } from "../../model/inventory";
import { loadStackSync } from "../../model/load";
import { InputError } from "../../schemas/diagnostics";
import { capture } from "../cli/capture";

const repo = path.resolve(__dirname, "..", "..");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sf-credentials-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const VAR = "SF_TEST_FACTORY_PASSWORD";
afterEach(() => delete process.env[VAR]);

/** The lab inventory and stack copied into `sub`, with the first DPU's factory credentials replaced. */
function labWith(sub: string, credentials: Record<string, string>): { inventory: string; stack: string } {
  const folder = path.join(dir, sub);
  fs.mkdirSync(folder, { recursive: true });
  const doc = YAML.parseDocument(fs.readFileSync(path.join(repo, "examples", "lab", "fleet.yaml"), "utf8"));
  doc.setIn(["hosts", 0, "smartnics", 0, "factoryCredentials"], doc.createNode(credentials));
  const inventory = path.join(folder, "fleet.yaml");
  fs.writeFileSync(inventory, doc.toString());
  const stackDoc = YAML.parseDocument(fs.readFileSync(path.join(repo, "stacks", "lab.yaml"), "utf8"));
  stackDoc.set("inventory", "fleet.yaml");
  const stack = path.join(folder, "lab.yaml");
  fs.writeFileSync(stack, stackDoc.toString());
  return { inventory, stack };
}

function firstNic(inventory: string) {
  return placedDpus(loadInventory(inventory))[0].nic;
}

describe("passwordFrom", () => {
  it("env:NAME reads the variable when the password is used, naming the DPU and variable when it is not set", () => {
    const { inventory } = labWith("env", { username: "root", passwordFrom: `env:${VAR}` });
    const nic = firstNic(inventory); // loading needs no secret
    expect(() => factoryPassword(nic)).toThrow(CredentialError);
    expect(() => factoryPassword(nic)).toThrow(`DPU ${nic.name} (serial ${nic.serial}): factoryCredentials.passwordFrom env:${VAR}: the environment variable ${VAR} is not set`);
    process.env[VAR] = "from-the-environment";
    expect(factoryPassword(nic)).toBe("from-the-environment");
  });

  it("file:PATH reads the first line of a file beside the inventory, from any working directory", () => {
    const { inventory } = labWith("file", { username: "root", passwordFrom: "file:secrets/factory.txt" });
    const nic = firstNic(inventory);
    expect(() => factoryPassword(nic)).toThrow(`cannot read ${path.join(dir, "file", "secrets", "factory.txt")} (no such file)`);
    fs.mkdirSync(path.join(dir, "file", "secrets"));
    fs.writeFileSync(path.join(dir, "file", "secrets", "factory.txt"), "from-a-file\n");
    const cwd = process.cwd();
    try {
      process.chdir(os.tmpdir());
      expect(factoryPassword(firstNic(inventory))).toBe("from-a-file");
    } finally {
      process.chdir(cwd);
    }
  });

  it("refuses an inventory DPU with neither or both, and a reference of another scheme", () => {
    const neither = labWith("neither", { username: "root" }).inventory;
    expect(() => loadInventory(neither)).toThrow(/\/hosts\/0\/smartnics\/0\/factoryCredentials {2}no factory password: add passwordFrom/);
    const both = labWith("both", { username: "root", password: "x", passwordFrom: `env:${VAR}` }).inventory;
    expect(() => loadInventory(both)).toThrow(/both password and passwordFrom: keep one/);
    const vault = labWith("vault", { username: "root", passwordFrom: "vault:secret/dpu" }).inventory;
    expect(() => loadInventory(vault)).toThrow(InputError);
  });

  it("is not needed by check: a stack whose inventory references an unset variable checks clean", async () => {
    const { stack } = labWith("check", { username: "root", passwordFrom: `env:${VAR}` });
    const out = await capture(check, [stack]);
    expect(out.stdout).toContain("1 stack checked: 0 errors");
    expect(out.code).toBe(0);
  });

  it("reaches what uses the password: the SmartNic declaration and the emulator's factory account", () => {
    const { stack, inventory } = labWith("use", { username: "root", passwordFrom: `env:${VAR}` });
    const loaded = loadStackSync(stack);
    expect(() => resourceDeclarations(loaded)).toThrow(`the environment variable ${VAR} is not set`);
    process.env[VAR] = "Factory-1";
    const nics = resourceDeclarations(loaded).filter((d) => d.kind === "SmartNic");
    const serial = firstNic(inventory).serial;
    const declared = nics.find((d) => (d.inputs as { target: { serial: string } }).target.serial === serial);
    expect(declared?.account?.factoryPassword).toBe("Factory-1");
    const account = factoryState(placedDpus(loadInventory(inventory))[0]).accounts[0];
    expect(verifyPassword("Factory-1", account.passwordHash)).toBe(true);
  });

  it("leaves plain password working", () => {
    const { inventory } = labWith("plain", { username: "root", password: "0penBmc" });
    expect(factoryPassword(firstNic(inventory))).toBe("0penBmc");
  });
});

describe("an inventory of the wrong kind", () => {
  it("says a Stack given as the inventory is a Stack", () => {
    expect(() => loadInventory(path.join(repo, "stacks", "lab.yaml"))).toThrow("this is a Stack, not a Fleet inventory: give the inventory file the stack names in `inventory:`");
  });
});
