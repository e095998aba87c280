/**
 * How the emulator keeps credentials at rest: passwords as salted scrypt records (a salt
 * per record, compared in constant time), session tokens as their SHA-256. Nothing a
 * client could log in with is ever written to `state.db` or returned by the admin API.
 */
import { createHash, randomBytes, scryptSync, timingSafeEqual } from "node:crypto";

/**
 * scrypt cost of a password a client sets: about 6 ms on one core, in the range of the
 * SHA-512 crypt (5,000 rounds) a BMC's PAM stack checks logins with. Node's default (N =
 * 16,384, about 50 ms) made every claim of a 100-DPU fleet cost the emulator seconds of
 * the CPU the providers under test share with it. Records keep their own N, so older ones
 * still verify.
 */
export const PASSWORD_COST = { N: 2_048, r: 8, p: 1 } as const;

/**
 * scrypt cost of a factory password. Those are documented by the vendor (a hash cannot
 * keep them secret, it keeps them out of the file), and every DPU new to a 1,000-DPU
 * inventory gets one at start: a cheaper cost keeps the first start fast.
 */
export const FACTORY_COST = { N: 1_024, r: 8, p: 1 } as const;

const KEY_LENGTH = 32;

/** `scrypt$N$r$p$<salt b64>$<key b64>` of `password`, with a fresh 16-byte salt. */
export function hashPassword(password: string, cost: { N: number; r: number; p: number } = PASSWORD_COST): string {
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, KEY_LENGTH, { ...cost, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString("base64")}$${key.toString("base64")}`;
}

/** True when `password` matches `record`; the comparison takes the same time whatever matches. */
export function verifyPassword(password: string, record: string): boolean {
  const parts = record.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4], "base64");
  const expected = Buffer.from(parts[5], "base64");
  const key = scryptSync(password, salt, expected.length, { N, r, p, maxmem: 64 * 1024 * 1024 });
  return timingSafeEqual(key, expected);
}

/** A record no password matches, for unknown users: checking it costs what a real check costs. */
export const NO_ACCOUNT_RECORD = hashPassword(randomBytes(16).toString("hex"));

/** SHA-256 (hex) of a session token: what is stored, looked up, and shown as the session's fingerprint. */
export function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** SHA-256 of a password, for the in-memory cache of Basic credentials already checked. */
export function quickDigest(password: string): Buffer {
  return createHash("sha256").update(password).digest();
}
