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

/**
 * Passwords already checked, in memory only: record → SHA-256 of the password it matches.
 * A record this process made (a factory password hashed at start, a password a client
 * set) or verified once is checked again without the KDF, so a claim's login after its
 * password change, and Basic auth on every request, cost no scrypt. Bounded; the oldest
 * entries go first.
 */
const checked = new Map<string, Buffer>();
const MAX_CHECKED = 100_000;

function remember(record: string, password: string): void {
  checked.delete(record);
  checked.set(record, quickDigest(password));
  if (checked.size > MAX_CHECKED) checked.delete(checked.keys().next().value as string);
}

/** `scrypt$N$r$p$<salt b64>$<key b64>` of `password`, with a fresh 16-byte salt. */
export function hashPassword(password: string, cost: { N: number; r: number; p: number } = PASSWORD_COST): string {
  const record = scryptRecord(password, cost);
  remember(record, password);
  return record;
}

function scryptRecord(password: string, cost: { N: number; r: number; p: number }): string {
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, KEY_LENGTH, { ...cost, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString("base64")}$${key.toString("base64")}`;
}

/**
 * True when `password` matches `record`. Only a match can skip the KDF: a wrong password
 * costs a full check whether or not the record is known, so a refusal takes the same time
 * for an unknown user, an existing one and a locked one.
 */
export function verifyPassword(password: string, record: string): boolean {
  const known = checked.get(record);
  if (known && timingSafeEqual(known, quickDigest(password))) return true;
  const parts = record.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  const salt = Buffer.from(parts[4], "base64");
  const expected = Buffer.from(parts[5], "base64");
  const key = scryptSync(password, salt, expected.length, { N, r, p, maxmem: 64 * 1024 * 1024 });
  const matches = timingSafeEqual(key, expected);
  if (matches) remember(record, password);
  return matches;
}

/**
 * True when `password` is the one `record` holds, for a check made inside a session (a new
 * password that must differ from the factory one): a record this process already checked
 * answers from memory either way, since the caller has logged in and learns nothing from
 * the time. Anything else is a full {@link verifyPassword}.
 */
export function isSamePassword(password: string, record: string): boolean {
  const known = checked.get(record);
  if (known) return timingSafeEqual(known, quickDigest(password));
  return verifyPassword(password, record);
}

/** A record no password matches, for unknown users: checking it costs what a real check costs (never remembered). */
export const NO_ACCOUNT_RECORD = scryptRecord(randomBytes(16).toString("hex"), PASSWORD_COST);

/** SHA-256 (hex) of a session token: what is stored, looked up, and shown as the session's fingerprint. */
export function tokenHash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** SHA-256 of a password, for the in-memory cache of passwords already checked. */
function quickDigest(password: string): Buffer {
  return createHash("sha256").update(password).digest();
}
