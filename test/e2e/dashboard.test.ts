import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as https from "node:https";
import * as path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startEmulator, type RunningEmulator } from "../../emulator";
import type { FleetNode, FleetState } from "../../cli/dashboard/fleet-state";
import { SqliteLeaseStore } from "../../providers/rollout/sqlite-store";
import { repoRoot } from "../support/pulumi";
import { admin, drift, endpointsFileOf, labStack, makeLabProject, redfishGet, startLabEmulator, type LabProject } from "./lab";

const artifacts = path.join(repoRoot, ".smartfleet", "artifacts");
const HOSTS = ["esx-01", "esx-02", "esx-03", "esx-04"];
const DPUS = ["esx-01/nic1", "esx-01/nic2", "esx-02/nic1", "esx-03/nic1", "esx-04/nic1", "esx-04/nic2"];

/** The first line a child prints on stdout (the dashboard prints its URL alone there). */
function firstLine(child: ChildProcess, stderr: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes("\n")) resolve(out.split("\n")[0]);
    });
    child.once("exit", (code) => reject(new Error(`smartfleet dashboard exited with ${code}: ${stderr()}`)));
  });
}

/** Event streams open now, so a watcher can be stopped before its time runs out. */
const openStreams = new Set<() => void>();

/** Ends every event stream still open (their waits reject, which a watcher catches). */
function stopWatching(): void {
  for (const stop of openStreams) stop();
}

/** Reads server-sent `state` events until `done` accepts one (or `ms` pass). */
function waitForEvent(url: string, done: (state: FleetState) => boolean, ms: number): Promise<{ state: FleetState; events: number; afterMs: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    let events = 0;
    const req = http.get(url, (res) => {
      expect(res.statusCode).toBe(200);
      expect(res.headers["content-type"]).toBe("text/event-stream; charset=utf-8");
      let buffer = "";
      res.on("data", (chunk: Buffer) => {
        buffer += chunk.toString();
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block.split("\n").find((l) => l.startsWith("data: "));
          if (!block.includes("event: state") || !data) continue;
          events += 1;
          const state = JSON.parse(data.slice("data: ".length)) as FleetState;
          if (done(state)) {
            clearTimeout(timer);
            openStreams.delete(stop);
            req.destroy();
            resolve({ state, events, afterMs: Date.now() - started });
          }
        }
      });
    });
    const fail = (why: string) => {
      clearTimeout(timer);
      openStreams.delete(stop);
      req.destroy();
      reject(new Error(`${why} (${events} events)`));
    };
    const stop = () => fail("stopped");
    openStreams.add(stop);
    req.on("error", () => undefined);
    const timer = setTimeout(() => fail(`no matching state within ${ms} ms`), ms);
  });
}

const node = (state: FleetState, id: string): FleetNode | undefined => state.nodes.find((n) => n.id === id);

/** POSTs an action on a DPU's management port as its management account; resolves with the status. */
function redfishPost(emulator: RunningEmulator, serial: string, route: string, password: string, body: unknown): Promise<number> {
  const dpu = emulator.endpoints.dpus.find((d) => d.serial === serial);
  if (!dpu) throw new Error(`no DPU ${serial} in the emulator's endpoints`);
  const payload = JSON.stringify(body);
  const auth = `Basic ${Buffer.from(`${dpu.factoryUsername}:${password}`).toString("base64")}`;
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(route, dpu.url), { method: "POST", ca: emulator.caPem, agent: false, headers: { Authorization: auth, "Content-Type": "application/json" } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? 0));
    });
    req.on("error", reject);
    req.end(payload);
  });
}

/**
 * `smartfleet dashboard` as a user runs it, in the project after an `up` of the emulated
 * lab fleet (127.213.0.x): the real CLI (a child process) reading the stack's
 * configuration through the Pulumi CLI, every managed port once per refresh (every
 * second here), the rollout store, and serving the page. Its API is read over HTTP; its
 * page in Debian's Chromium driven by playwright-core.
 */
describe("smartfleet dashboard against the emulated lab fleet", () => {
  let project: LabProject;
  let emulator: RunningEmulator;
  let dashboard: ChildProcess;
  let stderr = "";
  let url: URL;
  let browser: Browser | undefined;

  const api = (route: string, init: RequestInit = {}, token: string | null = url.searchParams.get("token")) => {
    const target = new URL(route, url);
    if (token !== null) target.searchParams.set("token", token);
    return fetch(target, init);
  };
  /** The latest state once the ports have been read (before, the stack's word stands in). */
  const state = async (): Promise<FleetState> => {
    for (;;) {
      const s = (await (await api("/api/state")).json()) as FleetState;
      if (s.observed) return s;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  const eventsUrl = (): string => {
    const target = new URL("/api/events", url);
    target.searchParams.set("token", url.searchParams.get("token") as string);
    return target.toString();
  };

  beforeAll(async () => {
    project = await makeLabProject("127.213.0");
    emulator = await startLabEmulator(project);
    const stack = await labStack(project, "dash", endpointsFileOf(project), { callTimeoutSeconds: 5 });
    const up = await stack.up({ parallel: 32 });
    expect(up.summary.result).toBe("succeeded");
    dashboard = spawn(process.execPath, [path.join(repoRoot, "dist", "cli", "main.js"), "dashboard", "--stack", "dash", "--interval", "1"], {
      cwd: project.workDir,
      env: { ...process.env, ...project.sandbox.envVars, SMARTFLEET_ROOT: repoRoot },
      stdio: ["ignore", "pipe", "pipe"],
    });
    dashboard.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    url = new URL(await firstLine(dashboard, () => stderr));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    if (dashboard && dashboard.exitCode === null) {
      const exited = new Promise((resolve) => dashboard.once("exit", resolve));
      dashboard.kill("SIGTERM");
      await exited;
    }
    await emulator?.stop();
    project?.cleanup();
  });

  it("prints a loopback URL with a token, and answers nothing without it (401) or with a wrong one (403)", async () => {
    expect(url.hostname).toBe("127.0.0.1");
    expect(url.searchParams.get("token")).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(stderr).toContain("reading 5 managed DPUs every 1 s");
    for (const route of ["/", "/api/state", "/api/events", "/api/topology.svg", "/api/plan", "/assets/app.js"]) {
      expect((await api(route, {}, null)).status, route).toBe(401);
      expect((await api(route, {}, "x".repeat(32))).status, route).toBe(403);
    }
    expect((await api("/api/plan", { method: "POST" }, null)).status).toBe(401);
    const page = await api("/");
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    // The page's own requests carry the token as this port's cookie.
    const cookie = (page.headers.get("set-cookie") ?? "").split(";")[0];
    expect(cookie).toBe(`smartfleet_dashboard_${url.port}=${url.searchParams.get("token")}`);
    expect((await fetch(new URL("/api/state", url), { headers: { cookie } })).status).toBe(200);
    expect((await fetch(new URL("/api/state", url), { headers: { authorization: `Bearer ${url.searchParams.get("token")}` } })).status).toBe(200);
    expect((await api("/assets/../open.js")).status).toBe(404);
  });

  it("the fleet state after the up: every host and DPU, every managed node converged, one request per DPU per refresh", async () => {
    await admin(emulator, "DELETE", "/admin/v1/disruptions");
    const s = await state();
    expect(s.stack).toBe("lab");
    expect(s.pulumiStack).toBe("dash");
    expect(s.nodes.filter((n) => n.kind === "host").map((n) => n.label)).toEqual(HOSTS);
    expect(s.nodes.filter((n) => n.kind === "dpu").map((n) => n.id.slice("dpu:".length)).sort()).toEqual(DPUS);
    expect(node(s, "dpu:esx-04/nic2")?.state).toBe("unmanaged");
    const managed = s.nodes.filter((n) => n.resources.length > 0);
    expect(managed.length).toBe(19);
    expect(managed.filter((n) => n.state !== "converged").map((n) => `${n.id} ${n.state} ${n.notes.join("; ")}`)).toEqual([]);
    expect(s.requests).toBe(5);
    expect(s.dpusRead).toBe(5);
    expect(s.counts.dpu).toEqual({ converged: 5, unmanaged: 1 });
    expect(node(s, "dpu:esx-01/nic1")).toMatchObject({ host: "esx-01", cluster: "east" });
    expect(node(s, "host:esx-03")?.cluster).toBeNull();
    // The up's rollout (DPU OS installs) left its store; nobody holds a slot or is in maintenance now.
    expect(s.rollout).toMatchObject({ exists: true, disrupted: [], maintenance: [] });
    expect(s.rollout.file).toBe(path.join(project.workDir, ".smartfleet", "rollout", "lab.db"));
    // Reading the fleet disrupts nothing.
    expect(await admin(emulator, "GET", "/admin/v1/disruptions")).toEqual([]);
    // A fleet this small is drawn whole; a cluster can be drawn alone.
    expect(await (await api("/api/topology")).json()).toEqual({ views: ["fleet", "east", "(no cluster)"], initial: "fleet", dpus: 6 });
    const svg = await (await api("/api/topology.svg")).text();
    for (const id of [...HOSTS.map((h) => `host:${h}`), ...DPUS.map((d) => `dpu:${d}`)]) expect(svg).toContain(`data-id="${id}"`);
    const east = await (await api("/api/topology.svg?view=east")).text();
    expect([...east.matchAll(/<g class="node host [a-z]+" data-id="host:([^"]+)"/g)].map((m) => m[1])).toEqual(["esx-01", "esx-02"]);
    expect((await api("/api/topology.svg?view=west")).status).toBe(404);
  });

  it("the page in Chromium: every host and DPU drawn and listed, drift injected on the hardware marked within 5 s, no console error", async () => {
    const executablePath = execFileSync(path.join(repoRoot, "scripts", "browser.sh"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").pop() as string;
    // Running as root (CI, containers) needs --no-sandbox.
    browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
    const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
    const problems: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`${m.type()}: ${m.text()}`);
    });
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("requestfailed", (r) => {
      // The event stream is cut when the page closes; anything else failing is a problem.
      if (!r.url().includes("/api/events")) problems.push(`request failed: ${r.url()}`);
    });
    const origins = new Set<string>();
    page.on("request", (r) => origins.add(new URL(r.url()).origin));
    await page.goto(url.toString());
    await page.locator("#connection.live").waitFor({ timeout: 10_000 });
    await page.locator('#topology g.node[data-id="dpu:esx-01/nic1"].converged').waitFor({ timeout: 10_000 });
    for (const host of HOSTS) expect(await page.locator(`#topology g.node.host[data-id="host:${host}"]`).count(), host).toBe(1);
    for (const dpu of DPUS) expect(await page.locator(`#topology g.node.dpu[data-id="dpu:${dpu}"]`).count(), dpu).toBe(1);
    expect(await page.locator("#topology g.node.dpu.converged").count()).toBe(5);
    expect(await page.locator("#topology g.node.dpu.unmanaged[data-id]").count()).toBe(1);
    // What assistive technology needs (a basic check, not axe-core): named controls and
    // tabs, the drawing as a titled image, the tabs reachable with the arrow keys.
    expect(await page.locator("html").getAttribute("lang")).toBe("en");
    expect(await page.getByRole("tab").count()).toBe(5);
    expect(await page.getByRole("img", { name: "Fleet topology of stack lab" }).count()).toBe(1);
    expect(await page.getByRole("combobox", { name: "Draw" }).count()).toBe(1);
    await page.getByRole("tab", { name: "Topology" }).focus();
    await page.keyboard.press("ArrowRight");
    expect(await page.getByRole("tab", { name: "Table" }).getAttribute("aria-selected")).toBe("true");
    expect(await page.getByRole("tabpanel", { name: "Table" }).isVisible()).toBe(true);
    expect(await page.getByRole("searchbox", { name: "Search" }).count()).toBe(1);
    expect(await page.getByRole("combobox", { name: "Show" }).count()).toBe(1);
    expect(await page.getByRole("combobox", { name: "State" }).count()).toBe(1);
    expect(await page.getByRole("checkbox", { name: "group by cluster" }).isChecked()).toBe(true);
    expect(await page.locator("#table-container tbody tr[data-id]").count()).toBe(10);
    await page.getByRole("tab", { name: "Topology" }).click();

    const started = Date.now();
    await drift(emulator, project.serials["esx-02/nic1"], { kind: "mode", value: "nic" });
    await page.locator('#topology g.node[data-id="dpu:esx-02/nic1"].drifted').waitFor({ timeout: 5_000 });
    const markedAfterMs = Date.now() - started;
    expect(markedAfterMs).toBeLessThan(5_000);
    expect(await page.locator('#topology g.node[data-id="dpu:esx-02/nic1"] > title').textContent()).toContain("mode nic, not dpu");
    await page.locator('#topology g.node[data-id="dpu:esx-02/nic1"]').click();
    await page.locator("#selection", { hasText: "mode nic, not dpu" }).waitFor({ timeout: 2_000 });

    // The table finds it by what differs, and by cluster.
    await page.getByRole("tab", { name: "Table" }).click();
    await page.getByLabel("Search").fill("not dpu");
    await page.locator("#table-count", { hasText: "1 of" }).waitFor({ timeout: 2_000 });
    expect(await page.locator("#table-container tbody tr[data-id]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-id")))).toEqual(["dpu:esx-02/nic1"]);
    expect(await page.locator("#table-container tbody[data-cluster]").evaluateAll((b) => b.map((x) => x.getAttribute("data-cluster")))).toEqual(["east"]);
    await page.getByLabel("Search").fill("");
    await page.getByRole("tab", { name: "Changes" }).click();
    // The drift's own entry: a port too slow to answer on a loaded machine adds entries of its own (unreachable and back).
    await page.locator("#changes li", { hasText: "dpu:esx-02/nic1" }).filter({ hasText: "mode nic, not dpu" }).waitFor({ timeout: 2_000 });
    await page.getByRole("tab", { name: "Topology" }).click();
    // One cluster drawn alone (as a big fleet is), still painted by state; then the whole fleet again.
    await page.getByLabel("Draw").selectOption("east");
    await page.locator('#topology g.node[data-id="dpu:esx-02/nic1"].drifted').waitFor({ timeout: 10_000 });
    expect(await page.locator("#topology g.node.host[data-id]").evaluateAll((b) => b.map((x) => x.getAttribute("data-id")))).toEqual(["host:esx-01", "host:esx-02"]);
    await page.getByLabel("Draw").selectOption("fleet");
    await page.locator('#topology g.node.host[data-id="host:esx-04"]').waitFor({ timeout: 10_000 });

    fs.mkdirSync(artifacts, { recursive: true });
    const shot = path.join(artifacts, "dashboard-lab.png");
    await page.screenshot({ path: shot, fullPage: true });
    expect(fs.statSync(shot).size).toBeGreaterThan(10_000);
    expect(problems).toEqual([]);
    // Nothing fetched from anywhere but the dashboard.
    expect([...origins]).toEqual([url.origin]);
    await page.close();
    console.log(`dashboard: drift marked on the page ${markedAfterMs} ms after it was made`);
  }, 60_000);

  it("axe-core finds no serious or critical accessibility violation on any tab", async () => {
    // axe is put into the page as a script of its own: the dashboard's CSP (rightly) allows
    // none but its own, so this page alone runs with the CSP bypassed.
    const page = await (browser as Browser).newPage({ viewport: { width: 1600, height: 1000 }, bypassCSP: true });
    await page.goto(url.toString());
    await page.locator("#connection.live").waitFor({ timeout: 10_000 });
    await page.locator("#topology g.node.dpu[data-id]").first().waitFor({ timeout: 10_000 });
    await page.addScriptTag({ path: require.resolve("axe-core/axe.min.js") });
    const found: string[] = [];
    for (const tab of ["Topology", "Table", "Rollout", "Changes", "Events"]) {
      await page.getByRole("tab", { name: tab }).click();
      const violations = await page.evaluate(async () => {
        const result = await (window as unknown as { axe: { run(): Promise<{ violations: Array<{ id: string; impact: string | null; nodes: unknown[] }> }> } }).axe.run();
        return result.violations.map((v) => ({ id: v.id, impact: v.impact, where: JSON.stringify((v.nodes as Array<{ target: unknown; failureSummary?: string }>).map((n) => [n.target, n.failureSummary])) }));
      });
      for (const v of violations) if (v.impact === "serious" || v.impact === "critical") found.push(`${tab}: ${v.id} (${v.impact}): ${v.where}`);
    }
    await page.close();
    expect(found).toEqual([]);
  }, 60_000);

  it("the event stream pushes every refresh; the drift is field by field and in the change log", async () => {
    const { state: s, events } = await waitForEvent(eventsUrl(), (x) => node(x, "dpu:esx-02/nic1")?.state === "drifted", 5_000);
    expect(events).toBeGreaterThanOrEqual(1);
    expect(node(s, "dpu:esx-02/nic1")?.notes).toEqual(["mode nic, not dpu"]);
    expect(node(s, "dpu:esx-02/nic1")?.details).toEqual(["nvidia bluefield-3, dpu mode", "esxi-arm 8.0.3"]);
    // One change of state but for a port too slow to answer on a loaded machine (unreachable and back).
    const changes = s.changes.filter((c) => c.id === "dpu:esx-02/nic1" && c.from !== "unreachable" && c.to !== "unreachable");
    expect(changes).toMatchObject([{ from: "converged", to: "drifted", notes: ["mode nic, not dpu"] }]);
    // A second refresh comes about a second later, each one request per DPU.
    const next = await waitForEvent(eventsUrl(), (x) => x.version > s.version, 5_000);
    expect(next.state.requests).toBe(5);
  });

  it("the ports' own events: a failed login logged on a port and a test event it only streams reach the event log within 5 s, and the page's Events tab filters them", async () => {
    const serial = project.serials["esx-03/nic1"];
    // Every port of the lab is followed (6 DPUs, fewer than the streams' bound).
    const opened = Date.now();
    expect((await redfishGet(emulator, serial, "/redfish/v1/Systems", "not-the-password")).status).toBe(401);
    const marker = `dashboard test event ${opened}`;
    expect(await redfishPost(emulator, serial, "/redfish/v1/EventService/Actions/EventService.SubmitTestEvent", project.managementPassword, { Message: marker })).toBe(204);
    const { state: s } = await waitForEvent(
      eventsUrl(),
      (x) => x.events.some((e) => e.message === marker) && x.events.some((e) => e.dpu === "esx-03/nic1" && e.at >= opened - 1_000 && e.messageId.endsWith("AccessDenied")),
      5_000,
    );
    const login = s.events.filter((e) => e.dpu === "esx-03/nic1" && e.messageId.endsWith("AccessDenied") && e.at >= opened - 1_000);
    expect(login).toHaveLength(1);
    expect(login[0]).toMatchObject({ host: "esx-03", severity: "Warning", message: expect.stringMatching(/^failed login as '.+' from /) });
    // Not in the port's log: only its stream could have brought it.
    expect(s.events.filter((e) => e.message === marker)).toMatchObject([{ dpu: "esx-03/nic1", via: "stream", severity: "OK" }]);
    // Each entry once, however it came: the keys are unique.
    expect(new Set(s.events.map((e) => e.key)).size).toBe(s.events.length);
    // Still one request per DPU per refresh: the log came with the port's one read.
    expect(s.requests).toBe(5);

    const page = await (browser as Browser).newPage({ viewport: { width: 1400, height: 900 } });
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
    await page.goto(url.toString());
    await page.locator("#connection.live").waitFor({ timeout: 10_000 });
    await page.getByRole("tab", { name: "Events" }).click();
    await page.locator("#events-container tr", { hasText: marker }).waitFor({ timeout: 5_000 });
    await page.getByLabel("Filter events").fill("esx-03 failed login");
    // The filter applies after a short pause in typing: the test event's row goes then.
    await page.locator("#events-container tr", { hasText: marker }).waitFor({ state: "detached", timeout: 5_000 });
    const rows = await page.locator("#events-container tbody tr").allTextContents();
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row).toMatch(/esx-03nic1Warningfailed login as/);
    await page.getByLabel("Severity").selectOption("Critical");
    await page.getByText(/^0 of \d+ events match$/).waitFor();
    expect(problems).toEqual([]);
    await page.close();
  });

  it("the rollout now, from the lease store: a host holding slots is disrupted now, a host recorded in maintenance is shown so", async () => {
    const store = new SqliteLeaseStore(path.join(project.workDir, ".smartfleet", "rollout", "lab.db"));
    try {
      const now = Date.now();
      const granted = await store.acquire({ run: "test-run", holder: "h1", host: "esx-01", group: "cluster:east", groupSize: 2, canary: 0, slots: [{ scope: "group:cluster:east", limit: 1 }, { scope: "pair:witness", limit: 1 }], ttlMs: 60_000, now });
      expect(granted).toEqual({ granted: true, canary: false });
      await store.markMaintenance("esx-03", { run: "test-run", since: now, note: "", group: "cluster:(none)" });
      const { state: s } = await waitForEvent(eventsUrl(), (x) => x.rollout.disrupted.length > 0 && x.rollout.maintenance.length > 0, 5_000);
      expect(s.rollout.disrupted).toEqual([{ host: "esx-01", scopes: ["group:cluster:east", "pair:witness"], run: "test-run", expiresAt: now + 60_000 }]);
      expect(s.rollout.maintenance).toEqual([{ host: "esx-03", run: "test-run", since: now, note: "", group: "cluster:(none)" }]);
      expect(node(s, "host:esx-01")?.rollout).toEqual(["disrupted"]);
      expect(node(s, "host:esx-03")?.rollout).toEqual(["maintenance"]);
      expect(node(s, "host:esx-02")?.rollout).toBeUndefined();
      await store.release("h1");
      await store.markMaintenance("esx-03", undefined);
      const after = await waitForEvent(eventsUrl(), (x) => x.rollout.disrupted.length === 0 && x.rollout.maintenance.length === 0, 5_000);
      expect(node(after.state, "host:esx-01")?.rollout).toBeUndefined();
    } finally {
      store.close();
    }
  });

  it("the plan on demand: a DPU whose host privilege drifted is planned back with a DPU reboot, drawn as the plan's timeline", async () => {
    expect(await (await api("/api/plan")).json()).toBeNull();
    await drift(emulator, project.serials["esx-04/nic1"], { kind: "hostPrivilege", value: "privileged" });
    const result = (await (await api("/api/plan", { method: "POST" })).json()) as { ok: boolean; plan: { stack: string; hosts: Array<{ host: string; disruption: string; operations: unknown[] }> }; svg: string; error?: string };
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.plan.stack).toBe("lab");
    expect(result.plan.hosts.map((h) => h.host)).toEqual(HOSTS);
    expect(result.plan.hosts.find((h) => h.host === "esx-04")).toMatchObject({ disruption: "dpu-reboot", operations: [{ resource: "esx-04-nic1", property: "hostPrivilege", from: "privileged", to: "restricted" }] });
    expect(result.svg).toContain('<rect class="bar" data-host="esx-04" data-kind="dpu-reboot"');
    // Kept for the page's next load; the live view shows the same drift field by field.
    expect(((await (await api("/api/plan")).json()) as { ok: boolean }).ok).toBe(true);
    const { state: s } = await waitForEvent(eventsUrl(), (x) => node(x, "dpu:esx-04/nic1")?.state === "drifted", 5_000);
    expect(node(s, "dpu:esx-04/nic1")?.notes).toEqual(["privilege privileged, not restricted"]);
  }, 120_000);

  it("a rollout live: during an up that reboots esx-04's DPU (the emulator at time scale 0.05), the host is disrupted now and its DPU changing with the task's percent, then both back", async () => {
    // Only esx-04's drift (its host privilege, from the plan test) is left to repair.
    await drift(emulator, project.serials["esx-02/nic1"], { kind: "mode", value: "dpu" });
    // The same fleet on the same state, now with operations that take a while (a DPU reset: 4.5 s).
    await emulator.stop();
    emulator = await startEmulator({ inventory: project.inventoryFile, stateDir: project.emulatorDir, timeScale: 0.05 });
    // Every state pushed while the up runs, until it is back.
    const seen: FleetState[] = [];
    const watching = waitForEvent(eventsUrl(), (x) => seen.push(x) < 0, 170_000).catch(() => undefined);
    // And the page's Rollout tab: the host in its slot now, and marked on the plan computed before.
    const page = await (browser as Browser).newPage({ viewport: { width: 1400, height: 900 } });
    const problems: string[] = [];
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("console", (m) => m.type() === "error" && problems.push(m.text()));
    await page.goto(url.toString());
    await page.getByRole("tab", { name: "Rollout" }).click();
    await page.locator("#plan svg g.host-row").first().waitFor({ timeout: 10_000 });
    const settle = (wait: Promise<unknown>) => wait.then(() => "seen", (error: Error) => error.message);
    let shot: Promise<unknown> = Promise.resolve();
    const disruptedRow = settle(page.locator('#rollout-now tr[data-host="esx-04"]').waitFor({ timeout: 120_000 }).then(() => (shot = page.screenshot({ path: path.join(artifacts, "dashboard-rollout.png"), fullPage: true }))));
    const planRowMarked = settle(page.locator('#plan g.host-row.now-disrupted[data-host="esx-04"]').waitFor({ timeout: 120_000 }));
    const changingText = settle(page.locator("#rollout-now p", { hasText: /^Changing now: dpu esx-04 nic1 \(DPU GracefulRestart \d+ %\)$/ }).waitFor({ timeout: 120_000 }));
    const stack = await labStack(project, "dash", endpointsFileOf(project), { callTimeoutSeconds: 5 });
    // With a refresh, as drift is repaired: the state does not know the port's privilege changed.
    const up = await stack.up({ parallel: 32, refresh: true });
    expect(up.summary.result).toBe("succeeded");
    expect(up.summary.resourceChanges?.update).toBe(1);
    const { state: after } = await waitForEvent(eventsUrl(), (x) => node(x, "dpu:esx-04/nic1")?.state === "converged" && x.rollout.disrupted.length === 0, 10_000);
    stopWatching();
    await watching;
    expect([await disruptedRow, await planRowMarked, await changingText]).toEqual(["seen", "seen", "seen"]);
    await shot;
    expect(fs.statSync(path.join(artifacts, "dashboard-rollout.png")).size).toBeGreaterThan(10_000);
    await page.getByText("No host holds a rollout slot now.").waitFor({ timeout: 10_000 });
    expect(await page.locator("#rollout-now").textContent()).not.toContain("Changing now");
    expect(problems).toEqual([]);
    await page.close();
    const dpu = seen.map((x) => node(x, "dpu:esx-04/nic1"));
    const changing = dpu.filter((n) => n?.state === "changing");
    expect(changing.length, seen.map((x) => node(x, "dpu:esx-04/nic1")?.state).join(",")).toBeGreaterThan(0);
    expect(changing.flatMap((n) => n?.notes ?? []).some((note) => /\d+ %$/.test(note))).toBe(true);
    expect(seen.some((x) => node(x, "host:esx-04")?.rollout?.includes("disrupted"))).toBe(true);
    // No other host was disrupted by it, and nothing is left changing.
    expect(seen.flatMap((x) => x.rollout.disrupted.map((d) => d.host)).filter((h) => h !== "esx-04")).toEqual([]);
    expect(node(after, "host:esx-04")?.rollout).toBeUndefined();
    expect(after.nodes.filter((n) => n.state === "changing")).toEqual([]);
    console.log(`dashboard during the up: esx-04/nic1 ${[...new Set(dpu.map((n) => `${n?.state}${n?.notes.length ? ` (${n.notes.join("; ")})` : ""}`))].join(" → ")}`);
  }, 180_000);
});
