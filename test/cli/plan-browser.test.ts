import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "..", "..");
const svgFile = path.join(root, "test", "fixtures", "plan", "lab.svg");
const artifacts = path.join(root, ".smartfleet", "artifacts");

/**
 * The plan's SVG timeline (the golden lab plan) in a real browser: Debian's Chromium
 * (scripts/browser.sh installs it when missing), driven by playwright-core. It must load
 * with no console error, show one row per host and one bar per disrupted host, and leave
 * a screenshot in .smartfleet/artifacts/ to look at.
 */
describe("smartfleet plan --format svg in Chromium", () => {
  let browser: Browser;

  beforeAll(async () => {
    const executablePath = execFileSync(path.join(root, "scripts", "browser.sh"), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] }).trim().split("\n").pop() as string;
    // Running as root (CI, containers) needs --no-sandbox.
    browser = await chromium.launch({ executablePath, args: ["--no-sandbox"] });
  });

  afterAll(async () => {
    await browser?.close();
  });

  it("renders the lab timeline: 4 host rows, 4 bars, a legend, no console errors; saves a screenshot", async () => {
    const page = await browser.newPage({ viewport: { width: 900, height: 400 } });
    const problems: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") problems.push(m.text());
    });
    page.on("pageerror", (e) => problems.push(e.message));
    page.on("requestfailed", (r) => problems.push(`request failed: ${r.url()}`));
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    await page.goto(`file://${svgFile}`);
    expect(await page.locator("svg").count()).toBe(1);
    expect(await page.locator("g.host-row").count()).toBe(4);
    expect(await page.locator("rect.bar").count()).toBe(4);
    expect(await page.locator("g.legend-item").count()).toBe(4);
    expect(await page.locator("text.group-label").allTextContents()).toEqual(["cluster:east", "cluster:(none)"]);
    // Bars have a real size on screen.
    const box = await page.locator('rect.bar[data-host="esx-04"]').boundingBox();
    expect(box?.width).toBeGreaterThan(100);
    expect(problems).toEqual([]);
    expect(requests).toEqual([`file://${svgFile}`]);
    fs.mkdirSync(artifacts, { recursive: true });
    const shot = path.join(artifacts, "plan-lab.png");
    // The whole drawing fits the viewport (fullPage waits forever on a bare SVG document).
    const size = await page.locator("svg").boundingBox();
    await page.setViewportSize({ width: Math.ceil(size?.width ?? 900), height: Math.ceil(size?.height ?? 400) });
    await page.screenshot({ path: shot });
    expect(fs.statSync(shot).size).toBeGreaterThan(1000);
  });
});
