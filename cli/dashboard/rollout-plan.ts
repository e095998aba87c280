/**
 * The Rollout tab's plan: `smartfleet plan --stack NAME --format json` run as a child
 * process of the built CLI (a preview through the Pulumi engine, which must not share
 * this process: the engine's program and provider plugins run beside it), its JSON kept
 * and drawn as the plan's SVG timeline (`policies/plan/render.ts`). Computed when asked
 * for, since a preview takes seconds and the plan only changes with the stack.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Plan } from "../../policies/plan/plan";
import { renderPlanSvg } from "../../policies/plan/render";

/** A computed plan, or why there is none. */
export type PlanResult =
  | { ok: true; computedAt: number; seconds: number; plan: Plan; svg: string; exitCode: number; messages: string[] }
  | { ok: false; computedAt: number; error: string };

/** Runs the plan of one stack, one run at a time, and keeps the last result. */
export class PlanRunner {
  private last: PlanResult | undefined;
  private running: Promise<PlanResult> | undefined;

  constructor(
    private readonly pulumiStack: string,
    private readonly projectDir: string,
    /** The built CLI's entry point; `main.js` beside this module's folder by default. */
    private readonly cliMain = path.resolve(__dirname, "..", "main.js"),
  ) {}

  /** The last result, if any. */
  latest(): PlanResult | undefined {
    return this.last;
  }

  /** Computes the plan now (joining a run under way). */
  compute(): Promise<PlanResult> {
    this.running ??= this.runOnce().then((result) => {
      this.last = result;
      this.running = undefined;
      return result;
    });
    return this.running;
  }

  private runOnce(): Promise<PlanResult> {
    const started = Date.now();
    if (!fs.existsSync(this.cliMain)) {
      return Promise.resolve({ ok: false, computedAt: started, error: `the plan runs the built CLI, and ${this.cliMain} does not exist: run npm run build` });
    }
    const args = [this.cliMain, "plan", "--stack", this.pulumiStack, "--cwd", this.projectDir, "--format", "json"];
    return new Promise((resolve) => {
      execFile(process.execPath, args, { cwd: this.projectDir, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
        const messages = stderr.split("\n").filter((l) => l.trim() !== "");
        const exitCode = error ? Number((error as { code?: unknown }).code ?? 1) : 0;
        // Exit 1 still prints the plan (policy errors, --fail-on hits); exit 2 prints none.
        let plan: Plan;
        try {
          plan = JSON.parse(stdout) as Plan;
        } catch {
          resolve({ ok: false, computedAt: started, error: messages.join("\n") || `smartfleet plan exited with ${exitCode} and printed no plan` });
          return;
        }
        resolve({ ok: true, computedAt: started, seconds: (Date.now() - started) / 1000, plan, svg: renderPlanSvg(plan), exitCode, messages });
      });
    });
  }
}
