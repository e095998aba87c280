/**
 * One client per management port and account per process, shared by every resource
 * that talks to that port: one session, one keep-alive connection pool, one cached
 * walk of the port's links. A pulumi run touching 100 DPUs opens 100 sessions, not one
 * per resource operation, and logs them all out when the process is done.
 */

import { RedfishClient, type ClientOptions, type Endpoint } from "./client";

const clients = new Map<string, { client: RedfishClient; password: string; caPem: string }>();
/** Closes of replaced clients still in flight; awaited by release and closeAll. */
const retiring = new Set<Promise<void>>();
let exitHookInstalled = false;

/**
 * The shared client for `ep` (keyed by URL and user name). A different password or CA
 * for the same key (e.g. right after the account was claimed) replaces the old client,
 * which is closed. `opts` apply only when a client is created.
 */
export function clientFor(ep: Endpoint, opts: ClientOptions = {}): RedfishClient {
  const key = poolKey(ep.url, ep.username);
  const pooled = clients.get(key);
  if (pooled && pooled.password === ep.password && pooled.caPem === ep.caPem) return pooled.client;
  if (pooled) retire(pooled.client);
  const client = RedfishClient.open(ep, opts);
  clients.set(key, { client, password: ep.password, caPem: ep.caPem });
  installExitHook();
  return client;
}

/** Closes (logs out) and forgets the pooled client for this URL and user, if any. */
export async function releaseClient(url: string, username: string): Promise<void> {
  const key = poolKey(url, username);
  const pooled = clients.get(key);
  clients.delete(key);
  await Promise.all([pooled?.client.close(), ...retiring]);
}

/** Closes every pooled client (logs every session out). */
export async function closeAllClients(): Promise<void> {
  const all = [...clients.values()];
  clients.clear();
  await Promise.all([...all.map((p) => p.client.close()), ...retiring]);
}

function retire(client: RedfishClient): void {
  const closing = client.close().finally(() => retiring.delete(closing));
  retiring.add(closing);
}

/** How many clients are pooled (for tests and diagnostics). */
export function pooledClientCount(): number {
  return clients.size;
}

function poolKey(url: string, username: string): string {
  return `${url.replace(/\/+$/, "")}\u0000${username}`;
}

/** How long logging out may hold up a process that was told to stop. */
const LOGOUT_ON_SIGNAL_MS = 3_000;

/**
 * Logs sessions out when the process ends, so ports do not collect idle sessions: when
 * the event loop drains, and when a signal stops the process — the Pulumi engine stops
 * the dynamic-provider process with one when a command is done, so without this every
 * command would leave one session per port behind until the BMC's idle timeout.
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("beforeExit", () => {
    void closeAllClients();
  });
  for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    process.once(signal, () => {
      const exit = (): never => process.exit(code);
      setTimeout(exit, LOGOUT_ON_SIGNAL_MS).unref();
      void closeAllClients().finally(exit);
    });
  }
}
