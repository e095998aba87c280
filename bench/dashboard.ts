// The dashboard at fleet scale (`node bench/dashboard.js [--dpus 1000] [--interval 5]
// [--refreshes 3] [--out FILE]`): a generated fleet of N DPUs on the emulator (a child
// process, time scale 0, addresses 127.251.x.y), every DPU claimed with a management
// password through the providers' Redfish client (as `up` leaves them), then the
// dashboard's server in a process of its own (`lib/dashboard-server.ts`: the refresh loop,
// the drawings and the HTTP server as `smartfleet dashboard` starts them, minus reading a
// Pulumi stack's configuration) and its page in headless Chromium. Measures what the
// issue asks of it: the server's first answers, when the page is interactive, the
// server's peak RSS, and the management requests one refresh costs (counted by the ports).
import { execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { clusterTopology } from "../cli/dashboard/clusters";
import type { FleetState } from "../cli/dashboard/fleet-state";
import { resourceDeclarations } from "../model/declarations";
import { routesOf } from "../model/endpoints";
import { writeFleetFiles } from "../model/fleet-generator";
import { loadStackSync } from "../model/load";
import { stackTopology } from "../model/topology";
import { endpointUrl } from "../providers/common/dpu";
import { claimAccount } from "../providers/redfish";
import type { DashboardServerConfig } from "./lib/dashboard-server";
import { startEmulator, totalRequests } from "./lib/emulator";

const root = path.resolve(__dirname, "..", "..");
const { values } = parseArgs({
  options: {
    dpus: { type: "string", default: "1000" },
    interval: { type: "string", default: "5" },
    refreshes: { type: "string", default: "3" },
    out: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
  strict: true,
});
if (values.help) {
  console.log("usage: node bench/dashboard.js [--dpus N] [--interval SECONDS] [--refreshes R] [--out FILE]");
  process.exit(0);
}
const dpus = Number(values.dpus);
const interval = Number(values.interval);
const refreshes = Number(values.refreshes);
for (const [name, n] of Object.entries({ dpus, interval, refreshes })) {
  if (!Number.isInteger(n) || n < 1) {
    console.error(`bench/dashboard: --${name} must be a positive integer`);
    process.exit(2);
  }
}

const log = (line: string) => console.error(`[dashboard bench] ${line}`);
const mib = (kib: number) => Math.round((kib / 1024) * 10) / 10;
const since = (t: number) => Date.now() - t;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `work` over `items`, `width` at a time. */
async function pool<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

/** What the page's readiness check uses of its document (the benchmark compiles without the DOM's types). */
type PageDocument = { querySelectorAll(selector: string): { length: number }; getElementById(id: string): { className: string } | null };

/** A process's peak and current resident memory (KiB), from /proc. */
function memoryOf(pid: number): { peakKiB: number; nowKiB: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { peakKiB: field("VmHWM"), nowKiB: field("VmRSS") };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "smartfleet-dashboard-bench-"));
  // Kept when anything fails, for its logs.
  log(`working in ${dir}`);
  const files = writeFleetFiles(path.join(dir, "fleet"), { name: "dashbench", dpus, addressBlock: 251, addressBlocks: 2 });
  log(`${files.dpus} DPUs on ${files.hosts} hosts, ${files.pairs} pairs`);
  const emulator = await startEmulator(path.join(root, "dist"), files.fleetFile, path.join(dir, "emulator"), 0, log);
  try {
    const caFile = path.resolve(path.dirname(emulator.endpointsFile), emulator.endpoints.caFile);
    const caPem = fs.readFileSync(caFile, "utf8");
    const loaded = loadStackSync(files.stackFile);
    const nics = resourceDeclarations(loaded, { routes: routesOf(emulator.endpoints) }).flatMap((d) => (d.kind === "SmartNic" ? [d] : []));
    const password = `Sf-${randomBytes(12).toString("base64url")}`;
    const claimStarted = Date.now();
    await pool(nics, 32, async (d) => {
      const factory = d.account.factoryPassword;
      if (!factory) throw new Error(`${d.name}: the generated inventory gives no factory password`);
      await claimAccount({ url: endpointUrl(d.inputs.target), caPem, username: d.account.username }, factory, password);
    });
    const claimMs = since(claimStarted);
    log(`claimed ${nics.length} DPUs in ${claimMs} ms`);
    const targets = nics.map((d) => ({ id: `${d.inputs.target.host}/${d.inputs.target.smartnic}`, target: d.inputs.target, username: d.account.username, passwords: [password] }));

    const configFile = path.join(dir, "dashboard.json");
    const config: DashboardServerConfig = { stackFile: files.stackFile, caFile, targets, intervalMs: interval * 1000, dir };
    fs.writeFileSync(configFile, JSON.stringify(config));
    const started = Date.now();
    const server = spawn(process.execPath, [path.join(root, "dist", "bench", "lib", "dashboard-server.js"), configFile], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      const { url, token } = await new Promise<{ url: string; token: string }>((resolve, reject) => {
        let out = "";
        server.stdout?.on("data", (c: Buffer) => {
          out += c.toString();
          if (out.includes("\n")) resolve(JSON.parse(out.split("\n")[0]));
        });
        server.once("exit", (code) => reject(new Error(`the dashboard server exited with ${code}`)));
      });
      const listeningMs = since(started);
      const base = new URL(url);
      const timed = async (route: string) => {
        const t = Date.now();
        const res = await fetch(new URL(route, base), { headers: { authorization: `Bearer ${token}` } });
        const body = await res.text();
        return { ms: since(t), status: res.status, body };
      };
      const firstPage = await timed("/");
      const views = JSON.parse((await timed("/api/topology")).body) as { views: string[]; initial: string };
      const firstState = await timed("/api/state");
      const firstStateMs = since(started);
      // The first state is the stack's word; the ports' comes with the first refresh.
      while (!(JSON.parse((await timed("/api/state")).body) as FleetState).observed) await sleep(1_000);
      const firstObservedMs = since(started);
      const svg = await timed(`/api/topology.svg?view=${encodeURIComponent(views.initial)}`);
      const layoutMs = since(started);
      log(`listening ${listeningMs} ms after start; first page ${firstPage.ms} ms; first state ${firstStateMs} ms after start (${mib(firstState.body.length / 1024)} MiB), first read of the ports ${firstObservedMs} ms; view ${views.initial} drawn ${layoutMs} ms after start`);

      const declared = stackTopology(loaded);
      const boxes = (views.initial === "fleet" ? declared : clusterTopology(declared, views.initial))?.nodes.length ?? 0;
      const executablePath = execFileSync(path.join(root, "scripts", "browser.sh"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").pop() as string;
      const browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
      const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("console", (m) => m.type() === "error" && errors.push(m.text()));
      const opened = Date.now();
      await page.goto(url);
      // Interactive: the stream is live and every box of the first view is painted with its state.
      // A function, not a string: a string predicate is eval'd in the page, which its Content-Security-Policy forbids.
      await page.waitForFunction(
        (n) => {
          const doc = (globalThis as unknown as { document: PageDocument }).document;
          return doc.querySelectorAll("#topology g.node[data-state]").length >= n && doc.getElementById("connection")?.className === "live";
        },
        boxes,
        { timeout: 120_000 },
      );
      const interactiveMs = since(opened);
      const tableOpened = Date.now();
      await page.getByRole("tab", { name: "Table" }).click();
      await page.locator("#table-count").waitFor();
      const tableMs = since(tableOpened);
      const searched = Date.now();
      await page.getByLabel("Search").fill(targets[targets.length - 1].id.split("/")[0]);
      await page.locator("#table-container tbody tr[data-id]").first().waitFor();
      const searchMs = since(searched);
      log(`page interactive ${interactiveMs} ms after opening (${boxes} boxes); table ${tableMs} ms; search ${searchMs} ms`);
      await browser.close();

      // Refreshes never overlap, so the requests between two finished ones are one refresh's.
      const perRefresh: number[] = [];
      const refreshMs: number[] = [];
      const state = async () => JSON.parse((await timed("/api/state")).body) as FleetState;
      let last = await state();
      let counted = (await totalRequests(emulator)).requests;
      // Counting starts at the first refresh seen to end (the next one starts `--interval` later).
      let atBoundary = false;
      while (perRefresh.length < refreshes) {
        await sleep(200);
        const now = await state();
        if (now.version === last.version) continue;
        const total = (await totalRequests(emulator)).requests;
        // A refresh that finished while the last one was read in is not one refresh's worth.
        if (atBoundary && now.version === last.version + 1) {
          perRefresh.push(total - counted);
          refreshMs.push(now.refreshMs);
          log(`refresh ${now.version}: ${now.refreshMs} ms, ${total - counted} requests, ${now.dpusRead} DPUs read, server RSS ${mib(memoryOf(server.pid as number).nowKiB)} MiB`);
        }
        last = now;
        counted = total;
        atBoundary = true;
      }
      const memory = memoryOf(server.pid as number);
      const result = {
        date: new Date().toISOString().slice(0, 10),
        machine: `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? "?"}, load average ${os.loadavg()[0].toFixed(1)}`,
        dpus: targets.length,
        hosts: files.hosts,
        topologyBoxes: declared.nodes.length,
        initialView: views.initial,
        initialViewBoxes: boxes,
        claimMs,
        listeningMs,
        firstPageMs: firstPage.ms,
        firstStateMs,
        firstObservedMs,
        stateBytes: firstState.body.length,
        initialViewDrawnMs: layoutMs,
        svgBytes: svg.body.length,
        pageInteractiveMs: interactiveMs,
        tableMs,
        searchMs,
        intervalSeconds: interval,
        requestsPerRefresh: perRefresh,
        refreshMs,
        requestsPerDpuPerRefresh: Math.max(...perRefresh) / targets.length,
        serverPeakRssMiB: mib(memory.peakKiB),
        serverRssMiB: mib(memory.nowKiB),
        pageErrors: errors,
      };
      console.log(JSON.stringify(result, null, 2));
      if (values.out) fs.writeFileSync(values.out, JSON.stringify(result, null, 2) + "\n");
    } finally {
      server.kill("SIGTERM");
    }
  } finally {
    await emulator.stop();
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`bench/dashboard: ${(error as Error)?.stack ?? error}`);
    process.exit(1);
  },
);
