/**
 * Connections the management ports must survive: TCP connections that never start TLS, TLS
 * connections that never send a request, requests that never finish, and more connections
 * than a port takes. The emulator runs in this process, so /proc/self/fd counts its descriptors.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PortLimits, RunningEmulator } from "../../emulator/index";
import { admin, request, tempStateDir, testInventory } from "./helpers";

/** Starts the test inventory with `limits` (another address block if one is taken). */
async function startWithLimits(limits: Partial<PortLimits>): Promise<RunningEmulator> {
  const { startEmulator } = await import("../../emulator/index");
  for (let attempt = 0; ; attempt++) {
    try {
      return await startEmulator({ inventory: testInventory(), stateDir: tempStateDir(), timeScale: 1, limits });
    } catch (err) {
      if (attempt >= 5 || !/EADDRINUSE/.test(String((err as Error).message))) throw err;
    }
  }
}

function openDescriptors(): number {
  return fs.readdirSync("/proc/self/fd").length;
}

function hostPort(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 25 ms until it holds or `ms` pass; returns the time it took (or -1). */
async function waitFor(check: () => boolean, ms: number): Promise<number> {
  const start = Date.now();
  while (Date.now() - start < ms) {
    if (check()) return Date.now() - start;
    await sleep(25);
  }
  return check() ? Date.now() - start : -1;
}

/** Every port answers GET /redfish/v1 and the admin API lists the DPUs. */
async function everythingAnswers(emu: RunningEmulator): Promise<void> {
  for (const d of emu.endpoints.dpus) expect((await request(emu.caPem, `${d.url}/redfish/v1`)).status).toBe(200);
  expect((await admin(emu, "GET", "/admin/v1/dpus")).status).toBe(200);
}

/** A TCP connection that sends nothing; resolves when it is open. */
function rawConnect(url: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(hostPort(url), () => resolve(s));
    s.on("error", reject);
  });
}

/** Resolves with the ms until `socket` closes, or -1 after `ms`. */
function closedWithin(socket: net.Socket, ms: number): Promise<number> {
  const start = Date.now();
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(-1), ms);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(Date.now() - start);
    });
  });
}

/** A TLS connection trusting the fleet CA; resolves once the handshake is done. */
function tlsConnect(emu: RunningEmulator, url: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ ...hostPort(url), ca: emu.caPem, servername: undefined }, () => resolve(s));
    s.on("error", reject);
  });
}

/** Everything the server sends on `socket` until it closes (or `ms` pass). */
function readUntilClose(socket: tls.TLSSocket, ms: number): Promise<{ text: string; closedAfterMs: number }> {
  const start = Date.now();
  const chunks: Buffer[] = [];
  socket.on("data", (c: Buffer) => chunks.push(c));
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ text: Buffer.concat(chunks).toString("utf8"), closedAfterMs: -1 }), ms);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString("utf8"), closedAfterMs: Date.now() - start });
    });
  });
}

describe("connection timeouts", () => {
  const limits = { handshakeTimeoutMs: 200, headersTimeoutMs: 300, requestTimeoutMs: 500, keepAliveTimeoutMs: 300, maxConnectionsPerPort: 2_000 };
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startWithLimits(limits);
  }, 30_000);
  afterAll(async () => emu?.stop());

  it("closes a connection that sends no TLS ClientHello after the handshake timeout", async () => {
    const socket = await rawConnect(emu.endpoints.dpus[0].url);
    const closed = await closedWithin(socket, 3_000);
    socket.destroy();
    expect(closed).toBeGreaterThanOrEqual(limits.handshakeTimeoutMs - 50);
    expect(closed).toBeLessThan(limits.handshakeTimeoutMs + 1_500);
  });

  it("survives 5,000 abandoned TCP connections: every port and the admin API answer, descriptors return to the baseline", async () => {
    await everythingAnswers(emu);
    await sleep(limits.keepAliveTimeoutMs + 200);
    const before = openDescriptors();
    const urls = emu.endpoints.dpus.map((d) => d.url);
    const total = 5_000;
    const wave = 1_000;
    const started = Date.now();
    let peak = before;
    let slowestClose = 0;
    for (let opened = 0; opened < total; opened += wave) {
      const sockets = await Promise.all(Array.from({ length: wave }, (_, i) => rawConnect(urls[(opened + i) % urls.length])));
      // Half leave at once (the server sees the FIN while it waits for a ClientHello), half stay until the server closes them.
      const staying = sockets.filter((s, i) => (i % 2 === 0 ? (s.destroy(), false) : true));
      peak = Math.max(peak, openDescriptors());
      const closes = await Promise.all(staying.map((s) => closedWithin(s, 5_000)));
      expect(closes.filter((ms) => ms < 0)).toHaveLength(0);
      slowestClose = Math.max(slowestClose, ...closes);
    }
    const abandonedMs = Date.now() - started;
    const recoverMs = await waitFor(() => openDescriptors() <= before + 5, 5_000);
    const after = openDescriptors();
    console.log(
      `soak: ${total} TCP connections opened and abandoned in ${abandonedMs} ms (waves of ${wave}); descriptors ${before} before, ${peak} at peak, ${after} after; ` +
        `the slowest abandoned connection closed ${slowestClose} ms after it opened; baseline reached ${recoverMs} ms after the last wave`,
    );
    expect(after).toBeLessThanOrEqual(before + 5);
    await everythingAnswers(emu);
  }, 30_000);

  it("closes a TLS connection that sends no request after the header timeout, without an answer", async () => {
    const socket = await tlsConnect(emu, emu.endpoints.dpus[1].url);
    const { text, closedAfterMs } = await readUntilClose(socket, 3_000);
    expect(closedAfterMs).toBeGreaterThanOrEqual(limits.headersTimeoutMs - 50);
    expect(closedAfterMs).toBeLessThan(limits.headersTimeoutMs + 1_500);
    expect(text).toBe("");
  });

  it("answers 408 with a Redfish error when the headers do not arrive in time", async () => {
    const socket = await tlsConnect(emu, emu.endpoints.dpus[1].url);
    socket.write("GET /redfish/v1 HTTP/1.1\r\nHost: dpu\r\n");
    const { text, closedAfterMs } = await readUntilClose(socket, 3_000);
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(closedAfterMs).toBeLessThan(limits.headersTimeoutMs + 1_500);
  });

  it("answers 408 with a Redfish error at the request timeout when the body never completes", async () => {
    const url = emu.endpoints.dpus[0].url;
    const socket = await tlsConnect(emu, url);
    const start = Date.now();
    socket.write(`POST /redfish/v1/SessionService/Sessions HTTP/1.1\r\nHost: dpu\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"User`);
    const { text, closedAfterMs } = await readUntilClose(socket, 5_000);
    const elapsed = Date.now() - start;
    expect(closedAfterMs).toBeGreaterThan(0);
    expect(elapsed).toBeGreaterThanOrEqual(limits.requestTimeoutMs - 50);
    expect(elapsed).toBeLessThan(limits.requestTimeoutMs + 1_500);
    expect(text).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(text).toMatch(/\r\nConnection: close\r\n/i);
    const body = JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4));
    expect(body.error["@Message.ExtendedInfo"][0].MessageId).toMatch(/^Base\.[\d.]+\.GeneralError$/);
    expect((await request(emu.caPem, `${url}/redfish/v1`)).status).toBe(200);
  });

  it("closes an idle keep-alive connection after the keep-alive timeout", async () => {
    const socket = await tlsConnect(emu, emu.endpoints.dpus[2].url);
    const reading = readUntilClose(socket, 3_000);
    const start = Date.now();
    socket.write("GET /redfish/v1 HTTP/1.1\r\nHost: dpu\r\n\r\n");
    const { text, closedAfterMs } = await reading;
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text).not.toMatch(/408/);
    expect(closedAfterMs).toBeGreaterThan(0);
    // Node keeps the socket a further second past the advertised keep-alive timeout.
    expect(Date.now() - start).toBeLessThan(limits.keepAliveTimeoutMs + 2_500);
  });

  it("keeps answering 200 concurrent connections on one port", async () => {
    const url = emu.endpoints.dpus[3].url;
    const answers = await Promise.all(Array.from({ length: 200 }, () => request(emu.caPem, `${url}/redfish/v1`)));
    expect(answers.map((a) => a.status).filter((s) => s !== 200)).toHaveLength(0);
  }, 20_000);
});

describe("connections per port", () => {
  const cap = 8;
  let emu: RunningEmulator;
  beforeAll(async () => {
    emu = await startWithLimits({ maxConnectionsPerPort: cap });
  }, 30_000);
  afterAll(async () => emu?.stop());

  it("resets the connection over the cap, keeps the admin API and other ports answering, and accepts again once one closes", async () => {
    const [full, other] = emu.endpoints.dpus;
    const held = await Promise.all(Array.from({ length: cap }, () => tlsConnect(emu, full.url)));
    const refused = await tlsConnect(emu, full.url).then(
      (s) => (s.destroy(), "accepted"),
      (err: NodeJS.ErrnoException) => err.code,
    );
    expect(refused).toBe("ECONNRESET");
    expect((await admin(emu, "GET", "/admin/v1/dpus")).status).toBe(200);
    expect((await request(emu.caPem, `${other.url}/redfish/v1`)).status).toBe(200);
    const first = held.shift() as tls.TLSSocket;
    const gone = closedWithin(first, 2_000);
    first.destroy();
    await gone;
    await sleep(50);
    expect((await request(emu.caPem, `${full.url}/redfish/v1`)).status).toBe(200);
    for (const s of held) s.destroy();
  });
});
