/**
 * Who may talk to a DPU's management port: accounts, sessions, lockout after failed logins,
 * and the forced change of the factory password.
 */
import { randomBytes } from "node:crypto";
import type { AccountState, RoleId, SessionState } from "../model";
import { notFound, ServiceError } from "../service-error";
import { requireBoolean, requireEnum, requireString } from "./checks";
import type { SimulationCore } from "./core";

/** Failed logins in a row that lock an account, and for how long (simulated ms). */
export const LOCKOUT = { attempts: 5, durationMs: 60_000 } as const;

/** Idle time after which a session expires (simulated ms). */
export const SESSION_TIMEOUT_MS = 30 * 60_000;

/** Sessions a DPU holds at most, as BMCs cap them. */
const MAX_SESSIONS = 64;

const ROLES = ["Administrator", "Operator", "ReadOnly"] as const;

/** Accounts and sessions of every DPU. */
export class Accounts {
  constructor(private readonly core: SimulationCore) {}

  /**
   * Checks credentials, counting failures and locking after too many; returns the account.
   * A good login with nothing to reset writes nothing, so Basic auth on every request stays cheap.
   */
  authenticate(serial: string, userName: string, password: string, where: string): AccountState {
    const now = this.core.clock.now();
    const denied = (why: string): ServiceError =>
      new ServiceError(401, "AccessDenied", [where], why, { headers: { "WWW-Authenticate": 'Basic realm="smartfleet"' } });
    const current = this.core.docOf(serial).accounts.find((a) => a.userName === userName);
    if (!current) throw denied("invalid user name or password");
    if (current.lockedUntil > now) {
      throw denied(`account '${userName}' is locked after ${LOCKOUT.attempts} failed logins; it unlocks at ${new Date(current.lockedUntil).toISOString()}`);
    }
    const good = current.password === password && current.enabled;
    if (good && current.failedLogins === 0 && current.lockedUntil === 0) return current;
    // The failure count must persist even though the request fails: the error is returned, not thrown.
    const error = this.core.transact((txn) => {
      const account = txn.dpu(serial).accounts.find((a) => a.userName === userName);
      if (!account) return denied("invalid user name or password");
      return good ? resetFailures(account) : countFailure(account, now, denied);
    });
    if (error) throw error;
    return this.core.docOf(serial).accounts.find((a) => a.userName === userName) ?? current;
  }

  /** Opens a session for an authenticated account. */
  createSession(serial: string, accountId: string): SessionState {
    return this.core.transact((txn) => {
      const d = txn.dpu(serial);
      const now = this.core.clock.now();
      d.sessions = d.sessions.filter((s) => now - s.lastUsed < SESSION_TIMEOUT_MS);
      if (d.sessions.length >= MAX_SESSIONS) throw new ServiceError(503, "SessionLimitExceeded", [], "too many sessions; delete one first");
      const session: SessionState = { id: String(d.nextId.session++), token: randomBytes(24).toString("hex"), accountId, lastUsed: now };
      d.sessions.push(session);
      return { ...session };
    });
  }

  /**
   * The session of a token, if it is live. Use refreshes its idle time in memory only: a
   * restart may expire a session a little early, which costs a client one login, while a
   * write per request would cost every client throughput.
   */
  sessionByToken(serial: string, token: string): SessionState | undefined {
    const d = this.core.docOf(serial);
    const s = d.sessions.find((x) => x.token === token);
    const now = this.core.clock.now();
    if (!s || now - s.lastUsed >= SESSION_TIMEOUT_MS) return undefined;
    s.lastUsed = now;
    return s;
  }

  /** Ends a session. */
  deleteSession(serial: string, id: string): void {
    this.core.transact((txn) => {
      const d = txn.dpu(serial);
      if (!d.sessions.some((s) => s.id === id)) throw notFound("Session", id);
      d.sessions = d.sessions.filter((s) => s.id !== id);
    });
  }

  /** Creates a management account. */
  createAccount(serial: string, spec: { userName: unknown; password: unknown; roleId: unknown; enabled?: unknown }): AccountState {
    return this.core.transact((txn) => {
      const d = txn.dpu(serial);
      const userName = requireString("UserName", spec.userName);
      const password = checkPassword(spec.password);
      const roleId = requireEnum("RoleId", spec.roleId, ROLES);
      if (d.accounts.some((a) => a.userName === userName)) {
        throw new ServiceError(409, "ResourceAlreadyExists", ["ManagerAccount", "UserName", userName], `account '${userName}' exists`);
      }
      const account: AccountState = {
        id: userName,
        userName,
        password,
        roleId,
        passwordChangeRequired: false,
        enabled: spec.enabled === undefined ? true : requireBoolean("Enabled", spec.enabled),
        failedLogins: 0,
        lockedUntil: 0,
      };
      d.accounts.push(account);
      return { ...account };
    });
  }

  /** Changes an account; a new password clears PasswordChangeRequired. */
  patchAccount(serial: string, id: string, patch: { password?: unknown; roleId?: unknown; enabled?: unknown; locked?: unknown }): void {
    this.core.transact((txn) => {
      const account = txn.dpu(serial).accounts.find((a) => a.id === id);
      if (!account) throw notFound("ManagerAccount", id);
      if (patch.password !== undefined) changePassword(account, patch.password);
      if (patch.roleId !== undefined) account.roleId = requireEnum("RoleId", patch.roleId, ROLES) as RoleId;
      if (patch.enabled !== undefined) account.enabled = requireBoolean("Enabled", patch.enabled);
      if (patch.locked !== undefined) unlock(account, patch.locked);
    });
  }

  /** Deletes an account and its sessions. */
  deleteAccount(serial: string, id: string): void {
    this.core.transact((txn) => {
      const d = txn.dpu(serial);
      if (!d.accounts.some((a) => a.id === id)) throw notFound("ManagerAccount", id);
      if (d.accounts.filter((a) => a.roleId === "Administrator" && a.id !== id).length === 0) {
        throw new ServiceError(409, "ResourceCannotBeDeleted", [], "the last Administrator account cannot be deleted");
      }
      d.accounts = d.accounts.filter((a) => a.id !== id);
      d.sessions = d.sessions.filter((s) => s.accountId !== id);
    });
  }
}

function resetFailures(account: AccountState): undefined {
  account.failedLogins = 0;
  account.lockedUntil = 0;
  return undefined;
}

function countFailure(account: AccountState, now: number, denied: (why: string) => ServiceError): ServiceError {
  account.failedLogins++;
  if (account.failedLogins < LOCKOUT.attempts) return denied("invalid user name or password");
  account.lockedUntil = now + LOCKOUT.durationMs;
  account.failedLogins = 0;
  return denied(`invalid user name or password; account '${account.userName}' is now locked until ${new Date(account.lockedUntil).toISOString()}`);
}

/** A factory password must really change: setting the same one again does not clear the requirement. */
function changePassword(account: AccountState, value: unknown): void {
  const password = checkPassword(value);
  if (account.passwordChangeRequired && password === account.password) {
    throw new ServiceError(400, "PropertyValueFormatError", ["<hidden>", "Password"], "the new password must differ from the factory password");
  }
  account.password = password;
  account.passwordChangeRequired = false;
}

/** Locked can only be cleared by a client; only failed logins set it. */
function unlock(account: AccountState, value: unknown): void {
  if (requireBoolean("Locked", value)) throw new ServiceError(400, "PropertyValueNotInList", ["true", "Locked"], "Locked can only be cleared");
  account.lockedUntil = 0;
  account.failedLogins = 0;
}

function checkPassword(value: unknown): string {
  const p = requireString("Password", value);
  if (p.length < 8 || p.length > 128) throw new ServiceError(400, "PropertyValueFormatError", ["<hidden>", "Password"], "Password must be 8 to 128 characters");
  return p;
}
