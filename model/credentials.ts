/**
 * Factory passwords by reference. An inventory names each DPU's factory password either in
 * plain text (`password`) or by where it is kept (`passwordFrom: env:NAME` or
 * `passwordFrom: file:PATH`), so that an inventory committed to a repository holds no
 * secret. A reference is read only where the password is used (the declarations of an
 * `up` or a `plan`, the emulator's factory state): `smartfleet check` and `render` never
 * need it, so CI checks stacks without any secret.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type { Smartnic, SmartnicFactoryCredentials } from "../schemas/generated/fleet";

/** A factory password that cannot be had: a reference whose variable or file is missing, or no password at all. */
export class CredentialError extends Error {
  override name = "CredentialError";
}

/**
 * Anchors a relative `file:` reference at the inventory's folder, so the reference means
 * the same file whatever the working directory of the process that reads it.
 */
export function anchorPasswordFile(credentials: SmartnicFactoryCredentials, inventoryFile: string): void {
  const ref = credentials.passwordFrom;
  if (!ref?.startsWith("file:")) return;
  const target = ref.slice("file:".length);
  if (!path.isAbsolute(target)) credentials.passwordFrom = `file:${path.resolve(path.dirname(inventoryFile), target)}`;
}

/** The DPU's factory password: the plain one, or the one its reference points to. Throws `CredentialError` naming the DPU. */
export function factoryPassword(nic: Pick<Smartnic, "name" | "serial" | "factoryCredentials">): string {
  const { password, passwordFrom } = nic.factoryCredentials;
  const who = `DPU ${nic.name} (serial ${nic.serial}): factoryCredentials.passwordFrom ${passwordFrom}`;
  if (password !== undefined) return password;
  if (!passwordFrom) throw new CredentialError(`DPU ${nic.name} (serial ${nic.serial}): factoryCredentials has neither password nor passwordFrom`);
  if (passwordFrom.startsWith("env:")) {
    const name = passwordFrom.slice("env:".length);
    const value = process.env[name];
    if (value === undefined || value === "") throw new CredentialError(`${who}: the environment variable ${name} is not set (export it where pulumi and the emulator run)`);
    return value;
  }
  if (passwordFrom.startsWith("file:")) {
    const file = passwordFrom.slice("file:".length);
    let text: string;
    try {
      text = fs.readFileSync(file, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new CredentialError(`${who}: cannot read ${file} (${code === "ENOENT" ? "no such file" : code ?? String(err)})`);
    }
    const first = text.split(/\r?\n/)[0];
    if (first === "") throw new CredentialError(`${who}: the first line of ${file} is empty`);
    return first;
  }
  throw new CredentialError(`${who}: not env:NAME or file:PATH`);
}
