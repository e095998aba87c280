/**
 * Claiming a DPU's management account: swapping the factory password for the managed
 * one exactly once, however often a run is repeated. It only uses the client's public
 * calls, so it sits above the client; logging in itself is `sessions.ts`.
 */

import { RedfishClient, type ClientOptions } from "./client";
import { systemClock } from "./clock";
import { RedfishError } from "./errors";
import { asRecord, linkOf, SERVICE_ROOT } from "./odata";

/** How long a port's lockout is assumed to last when both passwords are refused (the emulator's and a common BMC default). */
export const DEFAULT_LOCKOUT_WAIT_MS = 60_000;

/** Options of a claim: the client's, plus how long to wait out a possible lockout. */
export interface ClaimOptions extends ClientOptions {
  /**
   * When both passwords are refused, the claim waits this long (the port's
   * `AccountLockoutDuration`) and tries once more, if the operation timeout leaves room for
   * it: a port answers a locked account exactly like a wrong password. 0 never waits.
   */
  lockoutWaitMs?: number;
  /**
   * Try the factory password first: for a DPU being taken under management, which is
   * usually fresh from the factory, that saves a login refused with the managed password.
   * A DPU claimed already then costs one refused factory login instead (a single failed
   * login, far below a lockout threshold).
   */
  factoryFirst?: boolean;
}

/**
 * Takes over a DPU's management account: if `newPassword` already works the account is
 * "already-claimed"; otherwise logs in with the factory password, changes the password
 * on the account the service names (`PasswordChangeRequired`) or the one whose
 * `UserName` matches, and goes on in that session ("rotated"). The new password's first
 * login is the next run's; were it refused, the factory password would still work and
 * that run would claim again.
 * Tries `newPassword` first so that re-running a claim never spends a failed login
 * against the lockout counter on an account already claimed; `factoryFirst` turns that
 * round around for a DPU expected fresh from the factory.
 *
 * When the port refuses both passwords it may have locked the account for this client's
 * address after failed logins (ours or someone else's from the same address): the claim
 * logs that, waits `lockoutWaitMs` when the operation timeout leaves room, and tries once
 * more (two rounds make four failed logins at most, under the usual threshold of five).
 *
 * `claimed`, when given, is the caller's client for `newPassword` (the pooled one): it
 * makes the logins with the new password and keeps the session for the calls that follow
 * the claim. Without it a client is opened and closed here.
 */
export async function claimAccount(
  ep: { url: string; caPem: string; username: string },
  factoryPassword: string,
  newPassword: string,
  opts: ClaimOptions = {},
  claimed?: RedfishClient,
): Promise<"rotated" | "already-claimed"> {
  const client = claimed ?? RedfishClient.open({ ...ep, password: newPassword }, opts);
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? (() => undefined);
  const wait = opts.lockoutWaitMs ?? DEFAULT_LOCKOUT_WAIT_MS;
  const deadline = clock.now() + (opts.operationTimeoutMs ?? 900_000);
  try {
    const claimed = async (): Promise<boolean> => {
      if ((await logsIn(client)) && !(await client.passwordChangeRequiredFor())) return true;
      // A session that must change its password can do nothing else.
      await client.logout();
      return false;
    };
    const rotated = async (): Promise<boolean> => {
      if (!(await rotateWithFactoryPassword(ep, factoryPassword, newPassword, opts, client))) return false;
      await client.login();
      return true;
    };
    for (let round = 0; ; round++) {
      if (opts.factoryFirst && round === 0) {
        if (await rotated()) return "rotated";
        if (await claimed()) return "already-claimed";
      } else {
        if (await claimed()) return "already-claimed";
        if (await rotated()) return "rotated";
      }
      const room = deadline - clock.now();
      const waited = round > 0 ? ` (also after waiting ${Math.round(wait / 1000)} s for a lockout to pass)` : "";
      if (round > 0 || wait <= 0 || room <= wait) {
        const noWait = round === 0 && wait > 0 ? ` (not waiting ${Math.round(wait / 1000)} s for a lockout to pass: the operation timeout leaves ${Math.max(0, Math.round(room / 1000))} s)` : "";
        throw new RedfishError(
          `neither the configured nor the factory password is accepted for '${ep.username}'${waited}${noWait}; either both are wrong, or failed logins from this address keep the account locked (a port answers both alike)`,
          { uri: "/redfish/v1/SessionService/Sessions", endpoint: client.endpoint, status: 401 },
        );
      }
      log(
        `${client.endpoint}: neither the configured nor the factory password is accepted for '${ep.username}'; the port may have locked the account for this address after failed logins, so waiting ${Math.round(wait / 1000)} s (its lockout duration) before one more try`,
      );
      await clock.sleep(wait);
    }
  } finally {
    if (!claimed) await client.close();
  }
}

/**
 * Sets `newPassword` through a login with the factory password; false when the factory
 * password is refused. The session goes on as `claimed`'s, the client of the new password
 * (a login and a logout less for the port, whose session table is small); it is logged
 * out here when the change failed.
 */
async function rotateWithFactoryPassword(
  ep: { url: string; caPem: string; username: string },
  factoryPassword: string,
  newPassword: string,
  opts: ClientOptions,
  claimed: RedfishClient,
): Promise<boolean> {
  const factory = RedfishClient.open({ ...ep, password: factoryPassword }, opts);
  try {
    if (!(await logsIn(factory))) return false;
    const accountUri = (await factory.passwordChangeRequiredFor()) ?? (await findAccount(factory, ep.username));
    // Unconditional: the new password does not depend on the account's other properties.
    await factory.patchUnconditionally(accountUri, { Password: newPassword });
    claimed.adoptSessionOf(factory);
    return true;
  } finally {
    await factory.close();
  }
}

/**
 * True when the client can log in; false on 401; throws anything else. A 401 that
 * says the account is locked throws too: trying the other password would only
 * lengthen the lockout.
 */
async function logsIn(client: RedfishClient): Promise<boolean> {
  try {
    await client.login();
    return true;
  } catch (err) {
    if (err instanceof RedfishError && err.status === 401 && !/lock/i.test(err.serviceMessage ?? "")) return false;
    throw err;
  }
}

/** The account whose `UserName` matches, for ports that do not name it in `PasswordChangeRequired`. */
async function findAccount(client: RedfishClient, username: string): Promise<string> {
  const root = await client.serviceRoot();
  const accountService = linkOf(root.AccountService);
  if (!accountService) {
    throw new RedfishError("the service root links no AccountService", { uri: SERVICE_ROOT, endpoint: client.endpoint });
  }
  const accounts = linkOf(asRecord((await client.get<Record<string, unknown>>(accountService)).body).Accounts);
  const members = accounts ? await client.getCollection<Record<string, unknown>>(accounts) : [];
  const match = members.find((m) => asRecord(m.body).UserName === username);
  if (!match) {
    throw new RedfishError(`no account with UserName '${username}'`, { uri: accounts ?? accountService, endpoint: client.endpoint });
  }
  return match.uri;
}
