import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setTimeout as sleep } from "node:timers/promises";
import { HttpsTransport, MAX_CONNECTIONS_PER_PORT, RECENTLY_FREED_MS } from "../../providers/redfish/transport";
import { makePki, startScriptedServer, type ScriptedServer, type TestPki } from "../support/redfish-ports";

/** Which connections requests that must not be repeated travel on. */
describe("HTTPS transport connections", () => {
  let pki: TestPki;
  let server: ScriptedServer;
  beforeAll(async () => {
    pki = await makePki();
    server = await startScriptedServer(pki, [() => ({ status: 200, body: {} })]);
  });
  afterAll(() => server?.close());

  const send = (transport: HttpsTransport, method: string, freshConnection: boolean) =>
    transport.send({ method, uri: "/redfish/v1/Systems", headers: {}, body: method === "POST" ? {} : undefined, timeoutMs: 5_000, freshConnection });
  const ports = () => server.seen.map((r) => r.remotePort);

  it("sends a request that must not be repeated on the keep-alive connection that answered a moment ago", async () => {
    const transport = new HttpsTransport(server.url, pki.caPem);
    server.seen.length = 0;
    await send(transport, "GET", false);
    await send(transport, "POST", true);
    const [get, post] = ports();
    expect(post).toBe(get);
    transport.close();
  });

  it("opens a new connection for it when the pooled one has been idle longer than that, and keeps it in the pool", async () => {
    const transport = new HttpsTransport(server.url, pki.caPem);
    server.seen.length = 0;
    await send(transport, "GET", false);
    await sleep(RECENTLY_FREED_MS + 100);
    await send(transport, "POST", true);
    await send(transport, "GET", false);
    const [get, post, again] = ports();
    expect(post).not.toBe(get);
    expect(again).toBe(post); // the new connection serves what follows; the stale one was closed
    transport.close();
  });

  it("shares one pool of connections between the clients of a port and closes it with the last", async () => {
    const a = HttpsTransport.shared(server.url, pki.caPem);
    const b = HttpsTransport.shared(server.url, pki.caPem);
    expect(b).toBe(a);
    server.seen.length = 0;
    await send(a, "GET", false);
    await send(b, "GET", false);
    a.close();
    await send(b, "GET", false);
    const [first, second, afterOneClosed] = ports();
    expect(second).toBe(first);
    expect(afterOneClosed).toBe(first);
    b.close();
    const c = HttpsTransport.shared(server.url, pki.caPem);
    expect(c).not.toBe(a); // the last user closed it: a new pool
    await send(c, "GET", false);
    expect(ports()[3]).not.toBe(first);
    c.close();
  });

  it("keeps at most MAX_CONNECTIONS_PER_PORT connections to a port: requests sent at once wait for one", async () => {
    const transport = new HttpsTransport(server.url, pki.caPem);
    server.seen.length = 0;
    const answers = await Promise.all(Array.from({ length: 6 }, () => send(transport, "GET", false)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(new Set(ports()).size).toBe(MAX_CONNECTIONS_PER_PORT);
    transport.close();
  });
});
