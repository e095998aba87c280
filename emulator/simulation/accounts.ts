/**
 * Who may talk to a DPU's management port: accounts, sessions, lockout after failed logins,
 * and the forced change of the factory password.
 *
 * Passwords are kept as salted scrypt records and session tokens as their SHA-256
 * (`../secrets.ts`). Lockout works as BMCs do it (AccountService `AccountLockoutThreshold`,
 * `AccountLockoutDuration`, `AccountLockoutCounterResetAfter`), counted per user name AND
 * source address: a flood of bad logins from one address locks that address out, not the
 * account for everyone. Every refused login answers the same 401 — unknown user, wrong
 * password, disabled, or locked — so the answer confirms no user name.
 */
import { randomBytes } from "node:crypto";
import type { AccountState, RoleId, SessionState } from "../model";
import { hashPassword, isSamePassword, NO_ACCOUNT_RECORD, tokenHash, verifyPassword } from "../secrets";
import { notFound, ServiceError } from "../service-error";
import { requireBoolean, requireEnum, requireString } from "./checks";
import type { SimulationCore } from "./core";

/**
 * Lockout policy (simulated ms): `attempts` failed logins of one user name from one source
 * address within `counterResetAfterMs` lock that pair for `durationMs`. AccountService shows it.
 */
export const LOCKOUT = { attempts: 5, durationMs: 60_000, counterResetAfterMs: 60_000 } as const;

/** Idle time after which a session expires (simulated ms); SessionService `SessionTimeout` shows it in seconds. */
export const SESSION_TIMEOUT_MS = 30 * 60_000;

/** Sessions a DPU holds at most, as BMCs cap them. */
export const MAX_SESSIONS = 64;

/** Sessions one account holds at most: one account filling its own cap leaves the others room. */
export const MAX_SESSIONS_PER_ACCOUNT = 16;

/** The one answer of every refused login. */
const REFUSED = "invalid user name or password";

/** Failure records kept per port at most (unknown user names count too); the oldest go first. */
const MAX_FAILURE_RECORDS = 4_096;

const ROLES = ["Administrator", "Operator", "ReadOnly"] as const;

/** Failed logins of one user name from one source address. */
interface FailureRecord {
  /** Clock times of the failures still counted. */
  failures: number[];
  /** Locked until (clock ms); 0 when not. */
  lockedUntil: number;
}

/** Accounts and sessions of every DPU. */
export class Accounts {
  /** Failure records by serial, then `userName\0source` (in memory: a restart forgets lockouts, as a BMC reboot does). */
  private readonly failures = new Map<string, Map<string, FailureRecord>>();

  constructor(private readonly core: SimulationCore) {}

  /**
   * Checks credentials from `source` (the client's address), counting failures per user name
   * and source and refusing that pair while it is locked; returns the account. A good login
   * with nothing to reset writes nothing, and a password already checked for the account's
   * current record skips the KDF, so Basic auth on every request stays cheap.
   */
  authenticate(serial: string, userName: string, password: string, where: string, source = "unknown"): AccountState {
    const now = this.core.clock.now();
    const refused = (): ServiceError =>
      new ServiceError(401, "AccessDenied", [where], REFUSED, { headers: { "WWW-Authenticate": 'Basic realm="smartfleet"' } });
    const key = `${userName}\0${source}`;
    const records = this.failuresOf(serial);
    const record = records.get(key);
    // Locked: refused without running the KDF (the answer is the same; the work is not spent).
    if (record && record.lockedUntil > now) throw refused();
    const account = this.core.docOf(serial).accounts.find((a) => a.userName === userName);
    const good = this.matches(account, password) && account !== undefined && account.enabled;
    if (good) {
      if (record) records.delete(key);
      return account;
    }
    this.core.eventLog.record(serial, { severity: "Warning", messageId: "Base.1.22.1.AccessDenied", args: [where], message: `failed login as '${userName}' from ${source}` });
    this.countFailure(serial, records, key, record, account, now);
    throw refused();
  }

  /** True when `account` is locked for at least one source address now. */
  isLocked(serial: string, account: AccountState): boolean {
    return account.lockedUntil > this.core.clock.now();
  }

  /** Opens a session for an authenticated account; 503 SessionLimitExceeded when the port or the account is full. */
  createSession(serial: string, accountId: string, source = "unknown"): SessionState & { token: string } {
    return this.core.transact((txn) => {
      const d = txn.dpu(serial);
      const now = this.core.clock.now();
      d.sessions = d.sessions.filter((s) => now - s.lastUsed < SESSION_TIMEOUT_MS);
      if (d.sessions.length >= MAX_SESSIONS) {
        throw new ServiceError(503, "SessionLimitExceeded", [], `all ${MAX_SESSIONS} sessions of the port are in use; delete one, or use Basic authentication`);
      }
      if (d.sessions.filter((s) => s.accountId === accountId).length >= MAX_SESSIONS_PER_ACCOUNT) {
        throw new ServiceError(503, "SessionLimitExceeded", [], `the account has its ${MAX_SESSIONS_PER_ACCOUNT} sessions in use; delete one, or use Basic authentication`);
      }
      const token = randomBytes(24).toString("hex");
      const session: SessionState = { id: String(d.nextId.session++), tokenHash: tokenHash(token), accountId, lastUsed: now };
      d.sessions.push(session);
      // No OriginOfCondition: a session is gone long before its log entry.
      this.core.eventLog.afterCommit(txn, serial, { severity: "OK", messageId: "ResourceEvent.1.4.3.ResourceCreated", args: [], message: `login: session ${session.id} opened for '${accountId}' from ${source}` });
      return { ...session, token };
    });
  }

  /**
   * The session of a token, if it is live (looked up by the token's SHA-256). Use refreshes
   * its idle time in memory only: a restart may expire a session a little early, which costs
   * a client one login, while a write per request would cost every client throughput.
   */
  sessionByToken(serial: string, token: string): SessionState | undefined {
    const d = this.core.docOf(serial);
    const hash = tokenHash(token);
    const s = d.sessions.find((x) => x.tokenHash === hash);
    const now = this.core.clock.now();
    if (!s || now - s.lastUsed >= SESSION_TIMEOUT_MS) return undefined;
    s.lastUsed = now;
    return s;
  }

  /** The failure records of a port. */
  private failuresOf(serial: string): Map<string, FailureRecord> {
    let records = this.failures.get(serial);
    if (!records) this.failures.set(serial, (records = new Map()));
    return records;
  }

  /** Checks `password` against the account (or, for no account, against a record nothing matches: same time). */
  private matches(account: AccountState | undefined, password: string): boolean {
    if (!account) {
      verifyPassword(password, NO_ACCOUNT_RECORD);
      return false;
    }
    return verifyPassword(password, account.passwordHash);
  }

  /** Counts a failure of `key`; the threshold locks the pair and marks the account `Locked`. */
  private countFailure(serial: string, records: Map<string, FailureRecord>, key: string, found: FailureRecord | undefined, account: AccountState | undefined, now: number): void {
    const record = found ?? { failures: [], lockedUntil: 0 };
    record.failures = record.failures.filter((t) => now - t < LOCKOUT.counterResetAfterMs);
    record.failures.push(now);
    records.delete(key); // re-inserted last: the map's order is the eviction order
    records.set(key, record);
    if (records.size > MAX_FAILURE_RECORDS) records.delete(records.keys().next().value as string);
    if (record.failures.length < LOCKOUT.attempts) return;
    record.failures = [];
    record.lockedUntil = now + LOCKOUT.durationMs;
    const [userName, source] = key.split("\0");
    this.core.eventLog.record(serial, { severity: "Warning", messageId: "ResourceEvent.1.4.3.ResourceStateChanged", args: [userName, "Locked"], message: `'${userName}' locked out from ${source} for ${LOCKOUT.durationMs / 1000} s after ${LOCKOUT.attempts} failed logins` });
    if (!account) return;
    const until = record.lockedUntil;
    this.core.transact((txn) => {
      const a = txn.dpu(serial).accounts.find((x) => x.id === account.id);
      if (a) a.lockedUntil = Math.max(a.lockedUntil, until);
    });
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
        passwordHash: hashPassword(password),
        roleId,
        passwordChangeRequired: false,
        enabled: spec.enabled === undefined ? true : requireBoolean("Enabled", spec.enabled),
        lockedUntil: 0,
      };
      d.accounts.push(account);
      return { ...account };
    });
  }

  /**
   * Changes an account; a new password clears PasswordChangeRequired and ends the account's
   * sessions other than `keepSession` (as OpenBMC does: whoever held them knew the old password).
   */
  patchAccount(serial: string, id: string, patch: { password?: unknown; roleId?: unknown; enabled?: unknown; locked?: unknown }, keepSession?: string): void {
    this.core.transact((txn) => {
      const d = txn.dpu(serial);
      const account = d.accounts.find((a) => a.id === id);
      if (!account) throw notFound("ManagerAccount", id);
      if (patch.password !== undefined) {
        this.changePassword(account, patch.password);
        d.sessions = d.sessions.filter((s) => s.accountId !== id || s.id === keepSession);
      }
      if (patch.roleId !== undefined) account.roleId = requireEnum("RoleId", patch.roleId, ROLES) as RoleId;
      if (patch.enabled !== undefined) account.enabled = requireBoolean("Enabled", patch.enabled);
      if (patch.locked !== undefined) {
        unlock(account, patch.locked);
        const records = this.failuresOf(serial);
        for (const key of [...records.keys()]) if (key.startsWith(`${account.userName}\0`)) records.delete(key);
      }
    });
  }

  /**
   * Sets a new password. A factory password must really change: setting the same one again
   * does not clear the requirement. (The factory password hashed at start, like the
   * password set here, is remembered as checked: a claim's logins cost no scrypt.)
   */
  private changePassword(account: AccountState, value: unknown): void {
    const password = checkPassword(value);
    if (account.passwordChangeRequired && isSamePassword(password, account.passwordHash)) {
      throw new ServiceError(400, "PropertyValueFormatError", ["<hidden>", "Password"], "the new password must differ from the factory password");
    }
    account.passwordHash = hashPassword(password);
    account.passwordChangeRequired = false;
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


/** Locked can only be cleared by a client; only failed logins set it. */
function unlock(account: AccountState, value: unknown): void {
  if (requireBoolean("Locked", value)) throw new ServiceError(400, "PropertyValueNotInList", ["true", "Locked"], "Locked can only be cleared");
  account.lockedUntil = 0;
}

function checkPassword(value: unknown): string {
  const p = requireString("Password", value);
  if (p.length < 8 || p.length > 128) throw new ServiceError(400, "PropertyValueFormatError", ["<hidden>", "Password"], "Password must be 8 to 128 characters");
  return p;
}
