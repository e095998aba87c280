/**
 * Reading a port whose account may still be on its factory password: the readers outside
 * a `pulumi` run (`plan`, `graph --live`, the dashboard) hold the stack's management
 * password and the inventory's factory one, and try them in that order.
 */
import { RedfishClient, type ClientOptions } from "./client";
import { RedfishError } from "./errors";

/** A port and the account to read it as. */
export interface PortAccount {
  url: string;
  caPem: string;
  username: string;
}

/**
 * `read` on a client of the port logged in with the first of `passwords` it accepts: a 401
 * tries the next one, anything else (and the last one's 401) is thrown. `counted` gets the
 * requests each client sent, whatever came of them; every client is closed.
 */
export async function withFirstAcceptedPassword<T>(
  port: PortAccount,
  passwords: readonly string[],
  options: ClientOptions,
  read: (client: RedfishClient, password: string) => Promise<T>,
  counted: (requests: number) => void = () => undefined,
): Promise<T> {
  if (passwords.length === 0) throw new Error(`no password to log in to ${port.url} as '${port.username}' with`);
  for (const [i, password] of passwords.entries()) {
    const client = RedfishClient.open({ ...port, password }, options);
    try {
      return await read(client, password);
    } catch (error) {
      const refused = error instanceof RedfishError && error.status === 401;
      if (!refused || i === passwords.length - 1) throw error;
    } finally {
      counted(client.requestCount);
      await client.close();
    }
  }
  throw new Error("unreachable: the last password's failure is thrown in the loop");
}
