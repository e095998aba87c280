/**
 * Logging in to a management port. One Redfish session per client: created on first
 * use and shared by concurrent first requests (a BMC has only a few session slots),
 * forgotten when the port rejects it, deleted on logout. When every slot is taken the
 * client falls back to Basic authentication instead of failing.
 *
 * It sits below the client and sends only through `SessionPort`, which the client
 * implements: the client calls in here on every request, so this file cannot import it.
 */

import { parseRedfishError, RedfishError } from "./errors";
import { asRecord, headerValue, linkOf, SERVICE_ROOT } from "./odata";
import type { RawResponse } from "./transport";

/** What authenticates a client's requests, and what to undo on logout. */
export interface Session {
  /** `X-Auth-Token`, or `Authorization: Basic` when the port has no session left. */
  header: { name: "X-Auth-Token" | "Authorization"; value: string };
  /** The session resource to delete on logout; undefined for Basic. */
  uri: string | undefined;
  /** Account URI the service named in a PasswordChangeRequired message at login. */
  passwordChangeUri: string | undefined;
  /**
   * Set on a session another client logged in and handed over ({@link Sessions.adopt}): a
   * port may keep such a session restricted to changing its password, so one answer of
   * 403 PasswordChangeRequired makes the client log in itself instead.
   */
  adopted?: true;
}

/** The account a client logs in as. */
export interface Account {
  username: string;
  /** Kept in memory only; never logged. */
  password: string;
}

/** What logging in needs from the client. */
export interface SessionPort {
  readonly endpoint: string;
  serviceRoot(): Promise<Record<string, unknown>>;
  /** Sends without session credentials, with the client's retry policy; answers any status. */
  sendUnauthenticated(
    method: string,
    uri: string,
    opts: { body?: unknown; headers?: Record<string, string>; idempotent: boolean; deadline: number },
  ): Promise<RawResponse>;
  /** The `RedfishError` for a non-2xx answer, with secrets scrubbed. */
  errorFrom(res: RawResponse, method: string, uri: string, summary: string): RedfishError;
  /** A short deadline for deleting a session: a port that is down must not hold up a close. */
  logoutDeadline(): number;
  log(line: string): void;
}

/** The session of one client: at most one login in flight, at most one session held. */
export class Sessions {
  private session: Session | undefined;
  private loggingIn: Promise<Session> | undefined;

  constructor(
    private readonly port: SessionPort,
    private readonly account: Account,
  ) {}

  /** The session held now, without logging in. */
  get current(): Session | undefined {
    return this.session;
  }

  /** The session, logging in first when there is none. */
  ensure(deadline: number): Promise<Session> {
    if (this.session) return Promise.resolve(this.session);
    // Concurrent callers share one login instead of opening a session each.
    if (!this.loggingIn) {
      this.loggingIn = this.create(deadline).finally(() => (this.loggingIn = undefined));
    }
    return this.loggingIn;
  }

  /**
   * Gives up the session without logging it out, for another client of the same account
   * to {@link adopt}; undefined when there is none or it is Basic authentication, which
   * carries this client's password.
   */
  handOver(): Session | undefined {
    const session = this.session;
    if (!session?.uri || session.header.name !== "X-Auth-Token") return undefined;
    this.session = undefined;
    return session;
  }

  /** Takes over a session of the same account that another client handed over; it is logged out with this one. */
  adopt(session: Session): void {
    this.session = { ...session, passwordChangeUri: undefined, adopted: true };
  }

  /** Forgets a session the port rejected, unless another caller already replaced it. */
  drop(stale: Session): void {
    if (this.session === stale) this.session = undefined;
  }

  /** Deletes the session, if any; the next `ensure` logs in again. */
  async logout(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (session) await this.remove(session);
  }

  /** Deletes an adopted session the port still holds to a password change, so that `ensure` logs in with this client's password. */
  async replaceRestricted(restricted: Session): Promise<void> {
    this.drop(restricted);
    await this.remove(restricted);
  }

  private async remove(session: Session): Promise<void> {
    if (!session.uri || session.header.name !== "X-Auth-Token") return;
    try {
      await this.port.sendUnauthenticated("DELETE", session.uri, {
        headers: { [session.header.name]: session.header.value },
        idempotent: true,
        deadline: this.port.logoutDeadline(),
      });
    } catch {
      // The session expires on its own; a port that is down must not fail a logout.
    }
  }

  private async create(deadline: number): Promise<Session> {
    const sessionsUri = sessionsUriOf(await this.port.serviceRoot());
    const { username, password } = this.account;
    const res = await this.port.sendUnauthenticated("POST", sessionsUri, {
      body: { UserName: username, Password: password },
      // Repeated when its connection drops, though it may have arrived: a login changes
      // nothing but a session, and the one whose answer was lost expires on the port. An
      // overloaded port closes connections under requests (its keep-alive and handshake
      // timers run late); failing the resource for a login helps nobody.
      idempotent: true,
      deadline,
    });
    if (isSessionLimit(res)) return (this.session = await this.basicSession(res, sessionsUri, deadline));
    if (res.status !== 200 && res.status !== 201) {
      throw this.port.errorFrom(res, "POST", sessionsUri, `login as '${username}' refused`);
    }
    this.session = this.tokenSession(res, sessionsUri);
    return this.session;
  }

  /**
   * Every session slot is taken (by sessions leaked by killed processes, which expire only
   * after idling, or by someone filling the table): Basic authentication on each request
   * still works and takes no slot. One read checks the credentials and finds out whether
   * the password must change first — the login answer that would have said so never came —
   * so a claim can change it over Basic authentication too (DSP0266 allows the PATCH of the
   * account's password while PasswordChangeRequired).
   */
  private async basicSession(full: RawResponse, sessionsUri: string, deadline: number): Promise<Session> {
    const { username } = this.account;
    const limit = parseRedfishError(full.body).message;
    const header = { name: "Authorization" as const, value: basicAuthorization(this.account) };
    const probeUri = linkOf((await this.port.serviceRoot()).AccountService) ?? `${SERVICE_ROOT}/AccountService`;
    const probe = await this.port.sendUnauthenticated("GET", probeUri, { headers: { Authorization: header.value }, idempotent: true, deadline });
    if (probe.status === 401) {
      throw this.port.errorFrom(probe, "GET", probeUri, `the port's sessions are full (SessionLimitExceeded${limit ? `: ${limit}` : ""}) and Basic authentication as '${username}' was refused too`);
    }
    const change = parseRedfishError(probe.body).extendedInfo.find((m) => m.MessageId?.endsWith("PasswordChangeRequired"));
    if (probe.status === 403 && !change) {
      throw this.port.errorFrom(probe, "GET", probeUri, `the port's sessions are full (SessionLimitExceeded) and Basic authentication as '${username}' may not read the AccountService`);
    }
    this.port.log(
      `${this.port.endpoint}: the port's sessions are full (SessionLimitExceeded${limit ? `: ${limit}` : ""}); using Basic authentication as '${username}' on each request instead of a session (POST ${sessionsUri})`,
    );
    return { header, uri: undefined, passwordChangeUri: change?.MessageArgs?.[0] };
  }

  /** The session a successful login answered, noting whether its password must change first. */
  private tokenSession(res: RawResponse, sessionsUri: string): Session {
    const token = headerValue(res.headers["x-auth-token"]);
    if (!token) {
      throw new RedfishError("login answered without an X-Auth-Token", { uri: sessionsUri, endpoint: this.port.endpoint, status: res.status });
    }
    const body = asRecord(res.body);
    const change = parseRedfishError(body).extendedInfo.find((m) => m.MessageId?.endsWith("PasswordChangeRequired"));
    return {
      header: { name: "X-Auth-Token", value: token },
      uri: headerValue(res.headers.location) ?? linkOf(body),
      passwordChangeUri: change?.MessageArgs?.[0],
    };
  }
}

/** `Basic …` for the account: used when no session slot is left, and for snapshots taken before any login. */
export function basicAuthorization(account: Account): string {
  return `Basic ${Buffer.from(`${account.username}:${account.password}`).toString("base64")}`;
}

/** A 403 saying the session's account must change its password before anything else. */
export function isPasswordChangeRequired(res: RawResponse): boolean {
  return res.status === 403 && (parseRedfishError(res.body).messageId ?? "").endsWith("PasswordChangeRequired");
}

/** A 503 that says every session slot is taken: retrying the login cannot help. */
export function isSessionLimit(res: RawResponse): boolean {
  return res.status === 503 && (parseRedfishError(res.body).messageId ?? "").endsWith("SessionLimitExceeded");
}

/** Where to POST a login: the root's `Links.Sessions`, else the SessionService's conventional `Sessions`. */
function sessionsUriOf(root: Record<string, unknown>): string {
  return linkOf(asRecord(root.Links).Sessions) ?? `${linkOf(root.SessionService) ?? `${SERVICE_ROOT}/SessionService`}/Sessions`;
}
