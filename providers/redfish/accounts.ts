/**
 * Claiming a DPU's management account: swapping the factory password for the managed
 * one exactly once, however often a run is repeated. It only uses the client's public
 * calls, so it sits above the client; logging in itself is `sessions.ts`.
 */

import { RedfishClient, type ClientOptions } from "./client";
import { RedfishError } from "./errors";
import { asRecord, linkOf, SERVICE_ROOT } from "./odata";

/**
 * Takes over a DPU's management account: if `newPassword` already works the account is
 * "already-claimed"; otherwise logs in with the factory password, changes the password
 * on the account the service names (`PasswordChangeRequired`) or the one whose
 * `UserName` matches, and checks that `newPassword` now logs in ("rotated").
 * Tries `newPassword` first so that re-running a claim never spends a failed login
 * against the lockout counter on an account already claimed.
 *
 * `claimed`, when given, is the caller's client for `newPassword` (the pooled one): it
 * makes both logins with the new password and keeps its session for the calls that
 * follow the claim. Without it a client is opened and closed here.
 */
export async function claimAccount(
  ep: { url: string; caPem: string; username: string },
  factoryPassword: string,
  newPassword: string,
  opts: ClientOptions = {},
  claimed?: RedfishClient,
): Promise<"rotated" | "already-claimed"> {
  const client = claimed ?? RedfishClient.open({ ...ep, password: newPassword }, opts);
  try {
    if ((await logsIn(client)) && !(await client.passwordChangeRequiredFor())) return "already-claimed";
    // A session that must change its password can do nothing else.
    await client.logout();
    await rotateWithFactoryPassword(ep, factoryPassword, newPassword, opts);
    await client.login();
    return "rotated";
  } finally {
    if (!claimed) await client.close();
  }
}

/** Sets `newPassword` through a session of the factory password, which is always logged out again. */
async function rotateWithFactoryPassword(
  ep: { url: string; caPem: string; username: string },
  factoryPassword: string,
  newPassword: string,
  opts: ClientOptions,
): Promise<void> {
  const factory = RedfishClient.open({ ...ep, password: factoryPassword }, opts);
  try {
    if (!(await logsIn(factory))) {
      throw new RedfishError(`neither the configured nor the factory password is accepted for '${ep.username}'`, {
        uri: "/redfish/v1/SessionService/Sessions",
        endpoint: factory.endpoint,
        status: 401,
      });
    }
    const accountUri = (await factory.passwordChangeRequiredFor()) ?? (await findAccount(factory, ep.username));
    await factory.patch(accountUri, { Password: newPassword });
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
