/**
 * Password records: a password this process hashed, or verified once, is checked again
 * without the KDF; a wrong one always pays the full check (a refusal must not tell a
 * known account from an unknown user by its time).
 */
import * as crypto from "node:crypto";
import { beforeEach, describe, expect, it, vi } from "vitest";

vi.mock("node:crypto", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:crypto")>();
  return { ...actual, scryptSync: vi.fn(actual.scryptSync) };
});

const { hashPassword, isSamePassword, verifyPassword, NO_ACCOUNT_RECORD, PASSWORD_COST } = await import("../../emulator/secrets");
const kdf = vi.mocked(crypto.scryptSync);

/** A record as another process (an earlier start) wrote it. */
function foreignRecord(password: string): string {
  const salt = crypto.randomBytes(16);
  const key = crypto.scryptSync(password, salt, 32, { ...PASSWORD_COST, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${PASSWORD_COST.N}$${PASSWORD_COST.r}$${PASSWORD_COST.p}$${salt.toString("base64")}$${key.toString("base64")}`;
}

describe("password records", () => {
  beforeEach(() => {
    kdf.mockClear();
  });

  it("checks a password it hashed without the KDF, and a wrong one with it", () => {
    const record = hashPassword("Claimed-Pass-1");
    expect(kdf).toHaveBeenCalledTimes(1);
    expect(verifyPassword("Claimed-Pass-1", record)).toBe(true);
    expect(kdf).toHaveBeenCalledTimes(1);
    expect(verifyPassword("Claimed-Pass-2", record)).toBe(false);
    expect(kdf).toHaveBeenCalledTimes(2);
  });

  it("pays the KDF once for a record from elsewhere, and only when the password matches does it remember", () => {
    const record = foreignRecord("Older-Pass-1");
    kdf.mockClear();
    expect(verifyPassword("wrong", record)).toBe(false);
    expect(verifyPassword("Older-Pass-1", record)).toBe(true);
    expect(verifyPassword("Older-Pass-1", record)).toBe(true);
    expect(kdf).toHaveBeenCalledTimes(2);
  });

  it("refuses everything against the unknown-user record, each time at full cost", () => {
    expect(verifyPassword("", NO_ACCOUNT_RECORD)).toBe(false);
    expect(verifyPassword("anything", NO_ACCOUNT_RECORD)).toBe(false);
    expect(kdf).toHaveBeenCalledTimes(2);
  });

  it("tells a new password from a known record's without the KDF, and from a foreign record with it", () => {
    const known = hashPassword("Factory-Pass-1");
    kdf.mockClear();
    expect(isSamePassword("Claimed-Pass-1", known)).toBe(false);
    expect(isSamePassword("Factory-Pass-1", known)).toBe(true);
    expect(kdf).not.toHaveBeenCalled();
    const foreign = foreignRecord("Factory-Pass-2");
    kdf.mockClear();
    expect(isSamePassword("Claimed-Pass-2", foreign)).toBe(false);
    expect(kdf).toHaveBeenCalledTimes(1);
  });

  it("refuses a record that is not scrypt's", () => {
    expect(verifyPassword("x", "plain$x")).toBe(false);
  });
});
