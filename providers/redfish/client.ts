/**
 * The management-port client's request/response core: one DPU's BMC over HTTPS, one
 * account. Everything that talks to a port goes through here, so the rules below hold
 * for every request; logging in is `sessions.ts`, task waiting `tasks.ts`, account
 * claiming `accounts.ts` (the first two reach the client through narrow ports it hands
 * them, so no two files import each other).
 *
 * - Authentication: every request carries the session's header; a 401 drops the
 *   session and logs in again once (the session expired or was deleted).
 * - TLS is verified against the endpoint's CA PEM; there is no switch to turn it off.
 * - Every `PATCH` carries `If-Match` (the ETag is read first when the caller has none,
 *   and read again on a 412 then);
 *   a mismatch surfaces as `RedfishError` with status 412 and `Base.*.PreconditionFailed`.
 * - Retries (exponential backoff with jitter, `Retry-After` honoured as a minimum):
 *   * 503 is retried for every method: the service says it did not act on the request.
 *   * A connection failure before the request could reach the service (refused,
 *     unreachable, a stale keep-alive socket) is retried for every method.
 *   * A failure after the request may have arrived (reset, per-call timeout) is retried
 *     only for idempotent requests: GET, DELETE, and PATCH — PATCH is safe because it
 *     always carries If-Match: a replay of an update that did land answers 412, which
 *     the client resolves by re-reading the resource (see `patch`). POST is never
 *     retried after it may have arrived (a second POST could create a second resource).
 *   * TLS failures and other HTTP errors are never retried.
 * - Time: each HTTP exchange has a per-call timeout; each public call (with its retries,
 *   re-login and, for `waitForTask`, all polling) has an overall per-operation timeout,
 *   because Pulumi's customTimeouts do not reach dynamic providers.
 * - Errors are `RedfishError` with status, MessageId, message, resolution, the URI and
 *   the endpoint; passwords and tokens never appear in them or in log lines.
 * - Reads: inside a read pass (`snapshot.ts`) GETs are answered from one expanded read
 *   of the port where it supports that; concurrent GETs of one URI share a request.
 */

import { backoffDelay, parseRetryAfter, retryBackoff } from "./backoff";
import { systemClock, type ClientClock } from "./clock";
import { ConnectionError, OperationTimeoutError, RedfishError, parseRedfishError, scrubSecrets } from "./errors";
import { asRecord, headerValue, SERVICE_ROOT } from "./odata";
import { basicAuthorization, isPasswordChangeRequired, isSessionLimit, Sessions, type SessionPort } from "./sessions";
import { noteWrite, PortSnapshot, readPassRules, sharedLifetimeMs, SNAPSHOT_LEVELS, SNAPSHOT_QUERY, SNAPSHOT_TTL_MS } from "./snapshot";
import { waitForTask, type Task, type TaskPort, type WaitOptions } from "./tasks";
import { HttpsTransport, type RawResponse } from "./transport";

/** Where a management port is and how to log in to it. */
export interface Endpoint {
  /** Base URL, `https://ADDR:PORT` (no path). */
  url: string;
  /** PEM of the CA that signed the port's certificate; the only trust anchor used. */
  caPem: string;
  /** Management account user name. */
  username: string;
  /** Management account password (kept in memory only; never logged). */
  password: string;
}

/** Tuning and test hooks of a client. */
export interface ClientOptions {
  /** Upper bound of one HTTP exchange, in ms (default 30 000). */
  callTimeoutMs?: number;
  /** Upper bound of one public call including retries and task polling, in ms (default 900 000). */
  operationTimeoutMs?: number;
  /** How many times a retryable failure is retried (default 8: about 15 s of backoff). */
  retries?: number;
  /** Time source for backoff, polling and deadlines (tests inject an instant clock). */
  clock?: ClientClock;
  /** Random numbers in [0, 1) for jitter (tests inject a fixed one). */
  random?: () => number;
  /** Receives one line per retry or re-login; never contains secrets. */
  log?: (line: string) => void;
}

/** A successful HTTP response from the management port. */
export interface RedfishResponse {
  /** HTTP status code (2xx). */
  status: number;
  /** The `ETag` header or `@odata.etag`, when present. */
  etag?: string;
  /** The `Location` header: a created resource or a task monitor (202). */
  location?: string;
  /** Parsed JSON body, or undefined for 204. */
  body: unknown;
}

const DEFAULT_CALL_TIMEOUT_MS = 30_000;
const DEFAULT_OPERATION_TIMEOUT_MS = 900_000;
const DEFAULT_RETRIES = 8;
interface ExchangeOptions {
  body?: unknown;
  headers?: Record<string, string>;
  /** Send the session token (false only for login and the open service root). */
  authenticated: boolean;
  /** Safe to repeat after the request may have reached the service. */
  idempotent: boolean;
  /** Absolute time (clock ms) after which the call gives up. */
  deadline: number;
}

/**
 * The service root of each port, by the transport its clients share: it is read without
 * credentials, so the managed account's client, a claim's factory login and a gate's
 * client of one port read it once between them.
 */
const serviceRoots = new WeakMap<HttpsTransport, Promise<Record<string, unknown>>>();

/** PATCHes of a caller that passed no ETag, each after a fresh read, before a 412 is surfaced. */
const OWN_READ_PATCHES = 3;

/** A Redfish client for one management port and one account. */
export class RedfishClient {
  /** Base URL of the management port (named in every error). */
  readonly endpoint: string;
  /** The account this client logs in as. */
  readonly username: string;
  /** HTTP exchanges sent so far (for measuring how chatty a refresh is). */
  requestCount = 0;

  private readonly transport: HttpsTransport;
  /** The transport is shared with other clients of the port: it is let go of once. */
  private closed = false;
  private readonly password: string;
  private readonly callTimeoutMs: number;
  private readonly operationTimeoutMs: number;
  private readonly retries: number;
  private readonly clock: ClientClock;
  private readonly random: () => number;
  private readonly log: (line: string) => void;
  private readonly sessions: Sessions;
  /** The open service root, shared by every client of the port (see {@link serviceRoots}). */
  private get root(): Promise<Record<string, unknown>> | undefined {
    return serviceRoots.get(this.transport);
  }
  private set root(value: Promise<Record<string, unknown>> | undefined) {
    if (value) serviceRoots.set(this.transport, value);
    else serviceRoots.delete(this.transport);
  }
  private expandIgnored = false;
  /** The port snapshot being read or held for read passes (see `snapshot.ts`). */
  private snapshot: Promise<PortSnapshot | undefined> | undefined;
  /** The snapshot each pass (a fresh read, the refresh) read from last: passes on one port at once must not retake each other's. */
  private readonly passSnapshots = new WeakMap<object, Promise<PortSnapshot | undefined>>();
  private snapshotUnsupported = false;
  /** GETs in flight by URI, shared by concurrent readers. */
  private readonly reading = new Map<string, Promise<{ body: unknown; etag?: string }>>();

  private constructor(ep: Endpoint, opts: ClientOptions) {
    this.endpoint = ep.url.replace(/\/+$/, "");
    this.username = ep.username;
    this.password = ep.password;
    this.transport = HttpsTransport.shared(this.endpoint, ep.caPem);
    this.callTimeoutMs = opts.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.operationTimeoutMs = opts.operationTimeoutMs ?? DEFAULT_OPERATION_TIMEOUT_MS;
    this.retries = opts.retries ?? DEFAULT_RETRIES;
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? Math.random;
    this.log = opts.log ?? (() => undefined);
    this.sessions = new Sessions(this.sessionPort(), { username: this.username, password: this.password });
  }

  /** Creates a client; nothing is sent until the first call (login is lazy). */
  static open(ep: Endpoint, opts: ClientOptions = {}): RedfishClient {
    return new RedfishClient(ep, opts);
  }

  /** Logs in now (if not already), so a wrong password or locked account fails early. */
  async login(): Promise<void> {
    await this.sessions.ensure(this.deadline());
  }

  /**
   * The account URI the service named when this session was created with a password
   * that must be changed (`PasswordChangeRequired`), else undefined.
   */
  async passwordChangeRequiredFor(): Promise<string | undefined> {
    return (await this.sessions.ensure(this.deadline())).passwordChangeUri;
  }

  /** The service root `/redfish/v1` (read once without credentials, then cached; from the port snapshot in a read pass). */
  async serviceRoot(): Promise<Record<string, unknown>> {
    const snapshot = await this.portSnapshot();
    if (snapshot) return snapshot.root;
    if (!this.root) {
      this.root = this.exchange("GET", SERVICE_ROOT, { authenticated: false, idempotent: true, deadline: this.deadline() })
        .then((res) => this.expectOk(res, "GET", SERVICE_ROOT, "reading the service root"))
        .then((res) => asRecord(res.body));
      // A failed read must not be cached: the next call tries again.
      this.root.catch(() => (this.root = undefined));
    }
    return this.root;
  }

  /**
   * True when the service root says `$expand=.($levels=1)` works and the port has not
   * been seen ignoring it (some BMCs advertise it and answer plain collections).
   */
  async supportsExpand(): Promise<boolean> {
    if (this.expandIgnored) return false;
    const root = await this.serviceRoot();
    const features = asRecord(root.ProtocolFeaturesSupported);
    const expand = asRecord(features.ExpandQuery);
    return expand.Levels === true && expand.NoLinks === true;
  }

  /**
   * Reads a resource; `etag` from the `ETag` header or `@odata.etag`. In a read pass the
   * port snapshot may answer. Concurrent reads of the same URI share one request: they
   * would get the same answer.
   */
  async get<T>(uri: string): Promise<{ body: T; etag?: string }> {
    const hit = (await this.portSnapshot())?.lookup(uri);
    if (hit) return { body: hit.body as T, etag: hit.etag };
    let reading = this.reading.get(uri);
    if (!reading) {
      reading = this.request("GET", uri, { authenticated: true, idempotent: true, deadline: this.deadline() }).then((res) => ({ body: res.body, etag: res.etag }));
      this.reading.set(uri, reading);
      const done = (): void => void this.reading.delete(uri);
      reading.then(done, done);
    }
    const { body, etag } = await reading;
    return { body: body as T, etag };
  }

  /**
   * Reads the members of a collection, with one request when the service supports
   * `$expand=.($levels=1)`, else one request per member (in parallel). `only`, when
   * given, limits which members are read one by one (an expanded answer returns all).
   */
  async getCollection<T>(uri: string, only?: readonly string[]): Promise<Array<{ uri: string; body: T; etag?: string }>> {
    const expand = await this.supportsExpand();
    const listUri = expand ? `${uri}${uri.includes("?") ? "&" : "?"}$expand=.($levels=1)` : uri;
    const { body } = await this.get<Record<string, unknown>>(listUri);
    let members = Array.isArray(body?.Members) ? body.Members.map(asRecord) : [];
    const expanded = members.some((m) => Object.keys(m).some((k) => k !== "@odata.id"));
    if (expand && members.length > 0 && !expanded) {
      this.expandIgnored = true;
      this.log(`${this.endpoint}: advertises $expand but ignores it; reading members one by one`);
    }
    if (only && !expanded) members = members.filter((m) => only.includes(String(m["@odata.id"])));
    return Promise.all(
      members.map(async (member) => {
        const memberUri = String(member["@odata.id"] ?? "");
        // An expanded member carries more than its link; a service that ignored $expand does not.
        if (Object.keys(member).some((k) => k !== "@odata.id")) {
          const etag = typeof member["@odata.etag"] === "string" ? member["@odata.etag"] : undefined;
          return { uri: memberUri, body: member as T, etag };
        }
        const read = await this.get<T>(memberUri);
        return { uri: memberUri, ...read };
      }),
    );
  }

  /**
   * Updates a resource with `If-Match`. Without `etag` the resource is read first to get
   * its current ETag; callers that have just read the resource pass the ETag they got. A
   * 412 after a retried attempt is resolved by re-reading: if the resource already shows
   * every property sent, the earlier attempt landed and the call succeeds; otherwise the
   * 412 is surfaced. A caller that passed no ETag decided nothing on an earlier read, so a
   * 412 from another writer changing the resource between this read and the PATCH (a host
   * power cycle beside a boot override) is read again and sent again, up to
   * {@link OWN_READ_PATCHES} times.
   */
  async patch(uri: string, body: object, etag?: string): Promise<RedfishResponse> {
    const deadline = this.deadline();
    for (let tries = 1; ; tries++) {
      const ifMatch = etag ?? (await this.request("GET", uri, { authenticated: true, idempotent: true, deadline })).etag;
      const headers: Record<string, string> = ifMatch ? { "If-Match": ifMatch } : {};
      let attempts = 0;
      const res = await this.exchange("PATCH", uri, { body, headers, authenticated: true, idempotent: true, deadline, onAttempt: () => attempts++ });
      if (res.status === 412 && attempts > 1) {
        const current = await this.request("GET", uri, { authenticated: true, idempotent: true, deadline });
        if (containsAll(current.body, body)) return current;
      }
      if (res.status === 412 && etag === undefined && tries < OWN_READ_PATCHES) continue;
      return this.expectOk(res, "PATCH", uri, "updating a resource");
    }
  }

  /**
   * A PATCH without `If-Match`, for a write that does not depend on what it replaces (a
   * new password): saves the read for the ETag. A port that insists on `If-Match` (428)
   * gets it from a read, as {@link patch} does.
   */
  async patchUnconditionally(uri: string, body: object): Promise<RedfishResponse> {
    const res = await this.exchange("PATCH", uri, { body, authenticated: true, idempotent: true, deadline: this.deadline() });
    if (res.status === 428) return this.patch(uri, body);
    return this.expectOk(res, "PATCH", uri, "updating a resource");
  }

  /** Creates a resource or starts an action; never retried once it may have arrived. */
  async post(uri: string, body: object): Promise<RedfishResponse> {
    return this.request("POST", uri, { body, authenticated: true, idempotent: false, deadline: this.deadline() });
  }

  /** Deletes a resource; a resource that is already gone (404) counts as deleted. */
  async delete(uri: string): Promise<void> {
    const res = await this.exchange("DELETE", uri, { authenticated: true, idempotent: true, deadline: this.deadline() });
    if (res.status === 404) return;
    this.expectOk(res, "DELETE", uri, "deleting a resource");
  }

  /**
   * Follows a task to its end and returns it. Accepts a task monitor URI (the
   * `Location` of a 202) or a task URI, so a later run can resume waiting on a task
   * URI kept in resource outputs. Polls with backoff (honouring `Retry-After`).
   * Throws `TaskFailedError` when the task ends `Exception`, `Killed` or `Cancelled`,
   * `RedfishError` when the monitor's final response is an error, and
   * `OperationTimeoutError` when the operation timeout passes first.
   */
  async waitForTask(monitorOrTaskUri: string, opts: WaitOptions = {}): Promise<Task> {
    return waitForTask(this.taskPort(), monitorOrTaskUri, opts);
  }

  /**
   * Takes over the session `other` holds, without a login of its own: a claim's factory
   * session, whose account now has this client's password. A port keeps the session that
   * changed the password (OpenBMC ends only the account's other sessions) and lifts its
   * restriction once the password is changed; one that does not is handled on the first
   * request. Nothing happens when `other` holds no token session; this client then logs
   * in itself.
   */
  adoptSessionOf(other: RedfishClient): void {
    if (this.sessions.current) return;
    const session = other.sessions.handOver();
    if (session) this.sessions.adopt(session);
  }

  /** Logs out (deletes the session, if any); the client logs in again on its next call. */
  async logout(): Promise<void> {
    await this.sessions.logout();
  }

  /** Logs out and lets go of the port's connections (closed once no other client of the port uses them); safe to call twice. */
  async close(): Promise<void> {
    await this.logout();
    if (this.closed) return;
    this.closed = true;
    this.transport.close();
  }

  /** The narrow view of this client that `sessions.ts` logs in through. */
  private sessionPort(): SessionPort {
    return {
      endpoint: this.endpoint,
      serviceRoot: () => this.serviceRoot(),
      sendUnauthenticated: (method, uri, opts) => this.exchange(method, uri, { ...opts, authenticated: false }),
      errorFrom: (res, method, uri, summary) => this.errorFrom(res, method, uri, summary),
      logoutDeadline: () => this.clock.now() + Math.min(this.callTimeoutMs, 10_000),
      log: (line) => this.log(line),
    };
  }

  /** The narrow view of this client that `tasks.ts` polls through. */
  private taskPort(): TaskPort {
    const authedGet = { authenticated: true, idempotent: true } as const;
    return {
      endpoint: this.endpoint,
      operationTimeoutMs: this.operationTimeoutMs,
      now: () => this.clock.now(),
      random: () => this.random(),
      poll: (uri, deadline) => this.exchange("GET", uri, { ...authedGet, deadline }),
      read: async (uri, deadline) => (await this.request("GET", uri, { ...authedGet, deadline })).body,
      serviceRoot: () => this.serviceRoot(),
      getCollection: (uri) => this.getCollection(uri),
      errorFrom: (res, method, uri, summary) => this.errorFrom(res, method, uri, summary),
      sleepUntilDeadline: (delay, deadline, uri, what) => this.sleepUntilDeadline(delay, deadline, uri, what),
    };
  }

  private deadline(): number {
    return this.clock.now() + this.operationTimeoutMs;
  }

  /**
   * The port snapshot for reads inside a read pass: taken with one request on first use
   * (when the pass may take one), shared by concurrent readers, retaken when stale.
   * Undefined outside a read pass, when the pass's rules refuse the one held, and on
   * ports that cannot expand that deep (every read then goes to the port).
   */
  private async portSnapshot(): Promise<PortSnapshot | undefined> {
    const rules = readPassRules();
    if (!rules || this.snapshotUnsupported) return undefined;
    // The pass's own snapshot first: the client holds one snapshot, and two passes reading
    // one port at once (health gates of a host's DPUs, read-backs) would otherwise replace
    // each other's and take a new one on every read. Still only while nothing was written.
    const own = rules.pass ? this.passSnapshots.get(rules.pass) : undefined;
    const ownHeld = own && (await own.catch(() => undefined));
    if (ownHeld?.serves({ ...rules, pass: undefined }, this.clock.now())) return ownHeld;
    const pending = this.snapshot;
    const held = pending && (await pending);
    if (held?.serves(rules, this.clock.now())) return held;
    if (!rules.take) return undefined;
    if (this.snapshot === pending) {
      // Nobody replaced it while this reader waited: take the next one.
      const taking = this.takeSnapshot(rules.pass);
      this.snapshot = taking;
      this.releaseAfter(sharedLifetimeMs(rules.pass), taking);
      // A failed read must not be kept: the next reader tries again (or sees the same error).
      taking.catch(() => {
        if (this.snapshot === taking) this.snapshot = undefined;
      });
    }
    // Taken for this pass, or by another reader while this one waited (so after the pass began).
    if (rules.pass && this.snapshot && this.passSnapshots.get(rules.pass) !== this.snapshot) {
      this.passSnapshots.set(rules.pass, this.snapshot);
      this.releaseAfter(SNAPSHOT_TTL_MS, this.snapshot, rules.pass);
    }
    return this.snapshot;
  }

  /**
   * Lets go of `snapshot` (held in the client's slot, or for `pass`) after `ms`, when it
   * can answer nothing any more. A client lives as long as its process, and a port's
   * snapshot is about 90 KB of parsed JSON: a 250-DPU `up` held 22 MiB of them when each
   * was kept 30 s. The timer holds both weakly, so it never keeps either alive itself
   * (a pass's own entry then goes with the pass). A real timer, not the client's clock:
   * this is about memory, and the clock decides what a snapshot serves.
   */
  private releaseAfter(ms: number, snapshot: Promise<PortSnapshot | undefined>, pass?: object): void {
    const snapshotRef = new WeakRef(snapshot);
    const passRef = pass && new WeakRef(pass);
    setTimeout(() => {
      const held = snapshotRef.deref();
      if (!held) return;
      if (this.snapshot === held) this.snapshot = undefined;
      const heldFor = passRef?.deref();
      if (heldFor && this.passSnapshots.get(heldFor) === held) this.passSnapshots.delete(heldFor);
    }, ms).unref();
  }

  /**
   * `GET /redfish/v1?$expand=*($levels=5)` (see `snapshot.ts`), with the session when there is one, else
   * Basic authentication (a login would be a second request). A port that refuses the
   * query or answers without expanding is marked unsupported; a refused password fails.
   */
  private async takeSnapshot(takenFor?: object): Promise<PortSnapshot | undefined> {
    if (this.root && !expandsDeepEnough(await this.root)) return this.noSnapshot("does not advertise $expand=* that deep");
    const uri = `${SERVICE_ROOT}?${SNAPSHOT_QUERY}`;
    const basic = { Authorization: basicAuthorization({ username: this.username, password: this.password }) };
    const session = this.sessions.current;
    const res = await this.exchange("GET", uri, { headers: session ? undefined : basic, authenticated: session !== undefined, idempotent: true, deadline: this.deadline() });
    if (res.status === 401) throw this.errorFrom(res, "GET", uri, `reading the port as '${this.username}' refused`);
    // A port in trouble fails the read as any GET would; one that refuses the query is read resource by resource.
    if (res.status >= 500 && res.status !== 501) throw this.errorFrom(res, "GET", uri, "reading the port");
    if (res.status < 200 || res.status >= 300) return this.noSnapshot(`answered ${res.status} to $expand`);
    const root = asRecord(res.body);
    if (!isExpanded(root.Systems)) return this.noSnapshot("ignored $expand");
    const snapshot = new PortSnapshot(this.endpoint, root, this.clock.now(), takenFor);
    // The service root does not change: later logins need not read it again.
    this.root ??= Promise.resolve(snapshot.plainRoot());
    return snapshot;
  }

  private noSnapshot(why: string): undefined {
    this.snapshotUnsupported = true;
    this.log(`${this.endpoint}: the port ${why}; reading resources one by one`);
    return undefined;
  }

  /** Sends a request and throws `RedfishError` for any non-2xx answer. */
  private async request(method: string, uri: string, opts: ExchangeOptions): Promise<RedfishResponse> {
    const res = await this.exchange(method, uri, opts);
    return this.expectOk(res, method, uri, `${method} failed`);
  }

  private expectOk(res: RawResponse, method: string, uri: string, summary: string): RedfishResponse {
    if (res.status >= 200 && res.status < 300) return toRedfishResponse(res);
    throw this.errorFrom(res, method, uri, summary);
  }

  /**
   * One logical request: authenticates, retries what is safe to retry, re-logs in once
   * on 401, and returns whatever HTTP status the service finally answered.
   */
  private async exchange(
    method: string,
    uri: string,
    opts: ExchangeOptions & { onAttempt?: () => void },
  ): Promise<RawResponse & { etag?: string }> {
    let reloggedIn = false;
    // Logins and logouts (sent unauthenticated) change nothing a snapshot holds.
    if (method !== "GET" && method !== "HEAD" && opts.authenticated) {
      noteWrite(this.endpoint);
      // The held snapshot can answer nothing after a write: let it go now, not when its time is up.
      this.snapshot = undefined;
    }
    for (let attempt = 0; ; attempt++) {
      const session = opts.authenticated ? await this.sessions.ensure(opts.deadline) : undefined;
      const headers = { ...opts.headers, ...(session ? { [session.header.name]: session.header.value } : {}) };
      let res: RawResponse;
      try {
        opts.onAttempt?.();
        res = await this.send(method, uri, headers, opts.body, opts.deadline, opts.idempotent);
      } catch (err) {
        if (!(err instanceof ConnectionError) || !this.mayRetryAfter(err, opts.idempotent, attempt)) throw this.scrubbed(err);
        await this.backoff(attempt, undefined, opts.deadline, method, uri, err);
        continue;
      }
      if (res.status === 401 && session && !reloggedIn) {
        reloggedIn = true;
        this.sessions.drop(session);
        this.log(`${this.endpoint}: session rejected on ${method} ${uri}; logging in again`);
        attempt--; // a re-login is not a retry
        continue;
      }
      if (session?.adopted && !reloggedIn && isPasswordChangeRequired(res)) {
        reloggedIn = true;
        await this.sessions.replaceRestricted(session);
        this.log(`${this.endpoint}: the port keeps the claim's session restricted to the password change; logging in with the new password`);
        attempt--;
        continue;
      }
      if (res.status === 503 && attempt < this.retries && !isSessionLimit(res)) {
        const retryAfter = parseRetryAfter(headerValue(res.headers["retry-after"]), this.clock.now());
        await this.backoff(attempt, retryAfter, opts.deadline, method, uri, this.errorFrom(res, method, uri, "service unavailable"));
        continue;
      }
      return { ...res, etag: etagOf(res) };
    }
  }

  private mayRetryAfter(err: ConnectionError, idempotent: boolean, attempt: number): boolean {
    if (attempt >= this.retries || err.failure === "tls") return false;
    return idempotent || !err.requestMayHaveArrived;
  }

  private async backoff(attempt: number, retryAfterMs: number | undefined, deadline: number, method: string, uri: string, last: Error): Promise<void> {
    const delay = backoffDelay(retryBackoff, attempt, this.random, retryAfterMs);
    const why = last instanceof ConnectionError ? last.failure : last instanceof RedfishError ? `status ${last.status}` : last.name;
    this.log(`${this.endpoint}: ${method} ${uri} failed (${why}); retry ${attempt + 1}/${this.retries} in ${delay} ms`);
    await this.sleepUntilDeadline(delay, deadline, uri, `${method} kept failing`, last);
  }

  private async sleepUntilDeadline(delay: number, deadline: number, uri: string, what: string, last?: Error): Promise<void> {
    if (this.clock.now() + delay > deadline) {
      throw new OperationTimeoutError(`${what}; gave up after the operation timeout of ${this.operationTimeoutMs} ms`, {
        uri,
        endpoint: this.endpoint,
        status: last instanceof RedfishError ? last.status : undefined,
        messageId: last instanceof RedfishError ? last.messageId : undefined,
        cause: last,
      });
    }
    await this.clock.sleep(delay);
  }

  private async send(
    method: string,
    uri: string,
    headers: Record<string, string>,
    body: unknown,
    deadline: number,
    idempotent: boolean,
  ): Promise<RawResponse> {
    const remaining = deadline - this.clock.now();
    if (remaining <= 0) {
      throw new OperationTimeoutError(`operation timeout of ${this.operationTimeoutMs} ms passed`, { uri, endpoint: this.endpoint, method });
    }
    this.requestCount++;
    return this.transport.send({
      method,
      uri,
      headers,
      body,
      timeoutMs: Math.min(this.callTimeoutMs, remaining),
      freshConnection: !idempotent,
    });
  }

  private errorFrom(res: RawResponse, method: string, uri: string, summary: string): RedfishError {
    const parsed = parseRedfishError(res.body);
    const secrets = this.secrets();
    return new RedfishError(summary, {
      status: res.status,
      messageId: parsed.messageId,
      serviceMessage: scrubSecrets(parsed.message, secrets),
      resolution: scrubSecrets(parsed.resolution, secrets),
      uri,
      endpoint: this.endpoint,
      method,
    });
  }

  /** Makes sure no secret leaks through an error raised below this class. */
  private scrubbed(err: unknown): unknown {
    if (err instanceof Error) {
      const clean = scrubSecrets(err.message, this.secrets());
      if (clean !== err.message) err.message = clean ?? "";
    }
    return err;
  }

  private secrets(): string[] {
    const session = this.sessions.current;
    return [this.password, ...(session ? [session.header.value, session.header.value.replace(/^Basic /, "")] : [])];
  }
}

/** True when the service root advertises `$expand=*` at least as deep as a snapshot needs. */
function expandsDeepEnough(root: Record<string, unknown>): boolean {
  const expand = asRecord(asRecord(root.ProtocolFeaturesSupported).ExpandQuery);
  return expand.ExpandAll === true && expand.Levels === true && Number(expand.MaxLevels) >= SNAPSHOT_LEVELS;
}

/** An inlined resource rather than a bare `{ "@odata.id" }` link. */
function isExpanded(value: unknown): boolean {
  return Object.keys(asRecord(value)).some((k) => k !== "@odata.id");
}

/** True when every property of `wanted` is present in `actual` with an equal value. */
function containsAll(actual: unknown, wanted: object): boolean {
  const a = asRecord(actual);
  return Object.entries(wanted).every(([k, v]) => JSON.stringify(a[k]) === JSON.stringify(v));
}

function toRedfishResponse(res: RawResponse): RedfishResponse {
  return { status: res.status, etag: etagOf(res), location: headerValue(res.headers.location), body: res.body };
}

function etagOf(res: RawResponse): string | undefined {
  const header = headerValue(res.headers.etag);
  if (header) return header;
  const odata = asRecord(res.body)["@odata.etag"];
  return typeof odata === "string" ? odata : undefined;
}
