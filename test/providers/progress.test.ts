import { afterEach, describe, expect, it } from "vitest";
import type { EngineLogEntry } from "../../providers/common/engine-log";
import { currentResource, flushReports, onResource, report, taskProgress, useEngineLog, useStderr } from "../../providers/common/progress";

const tick = (ms = 1): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** An engine that records what it is sent, answering after `delayMs`. */
function fakeEngine(delayMs = 0, fail = false): { sent: EngineLogEntry[]; log: (entry: EngineLogEntry) => Promise<void> } {
  const sent: EngineLogEntry[] = [];
  return {
    sent,
    log: async (entry) => {
      await tick(delayMs);
      if (fail) throw new Error("engine closed");
      sent.push(entry);
    },
  };
}

describe("progress on the resource", () => {
  const stderr: string[] = [];
  useStderr((line) => stderr.push(line));
  afterEach(() => {
    useEngineLog(undefined);
    stderr.length = 0;
  });

  it("attaches each message to the resource whose call made it, across awaits and interleaved calls", async () => {
    const engine = fakeEngine();
    useEngineLog(engine.log);
    const call = (urn: string, steps: number): Promise<void> =>
      onResource({ urn, label: urn }, async () => {
        for (let i = 0; i < steps; i++) {
          await tick(i % 2);
          report(`step ${i}`);
        }
      });
    await Promise.all([call("urn:a", 5), call("urn:b", 5)]);
    expect(currentResource()).toBeUndefined();
    const of = (urn: string): string[] => engine.sent.filter((e) => e.urn === urn).map((e) => e.message);
    expect(of("urn:a")).toEqual(["step 0", "step 1", "step 2", "step 3", "step 4"]);
    expect(of("urn:b")).toEqual(["step 0", "step 1", "step 2", "step 3", "step 4"]);
    expect(engine.sent.every((e) => e.severity === "info" && !e.ephemeral)).toBe(true);
    expect(stderr).toEqual([]);
  });

  it("keeps a resource's messages in order though the engine answers them in any order", async () => {
    const sent: string[] = [];
    // The first message takes longest to be answered: sent all at once, it would land last.
    useEngineLog(async (entry) => {
      await tick(entry.message === "first" ? 40 : 1);
      sent.push(entry.message);
    });
    await onResource({ urn: "urn:a", label: "a" }, async () => {
      report("first");
      report("second");
      report("third");
    });
    expect(sent).toEqual(["first", "second", "third"]);
  });

  it("waits for the call's messages to reach the engine before the call returns", async () => {
    const engine = fakeEngine(30);
    useEngineLog(engine.log);
    await onResource({ urn: "urn:slow", label: "slow" }, async () => report("sent late", { severity: "warning" }));
    expect(engine.sent).toEqual([{ urn: "urn:slow", message: "sent late", severity: "warning", ephemeral: false }]);
  });

  it("a finished call waits for its own messages, not for another resource's", async () => {
    const sent: string[] = [];
    useEngineLog(async (entry) => {
      await tick(entry.urn === "urn:slow" ? 300 : 1);
      sent.push(entry.urn);
    });
    let slowDone = false;
    const slow = onResource({ urn: "urn:slow", label: "slow" }, async () => report("slow")).then(() => (slowDone = true));
    await onResource({ urn: "urn:fast", label: "fast" }, async () => report("fast"));
    expect(sent).toEqual(["urn:fast"]);
    expect(slowDone).toBe(false);
    await slow;
    expect(sent).toEqual(["urn:fast", "urn:slow"]);
  });

  it("writes to stderr with the resource's name when there is no URN or no engine, and drops ephemeral statuses there", async () => {
    useEngineLog(fakeEngine().log);
    await onResource({ label: "DpuOs esx-01/nic1" }, async () => {
      report("installing");
      report("installing: 40 %", { ephemeral: true });
    });
    useEngineLog(undefined);
    await onResource({ urn: "urn:x", label: "Host esx-02" }, async () => report("powering on"));
    report("outside any call");
    expect(stderr).toEqual(["smartfleet: [DpuOs esx-01/nic1] installing", "smartfleet: [Host esx-02] powering on", "smartfleet: outside any call"]);
  });

  it("falls back to stderr for a message the engine refused, saying so", async () => {
    useEngineLog(fakeEngine(0, true).log);
    await onResource({ urn: "urn:x", label: "Host esx-02" }, async () => {
      report("powering on");
      report("10 %", { ephemeral: true });
    });
    await flushReports();
    expect(stderr).toEqual(["smartfleet: [Host esx-02] powering on (the engine did not take it: engine closed)"]);
  });

  it("writes a task's percent at most once per 10 points or per 5 s, and every new percent as a status", async () => {
    const engine = fakeEngine();
    useEngineLog(engine.log);
    let now = 0;
    const at = (ms: number, percent: number): [number, number] => [ms, percent];
    // A poll every second; percents as a port reports them.
    const polls = [at(0, 0), at(1000, 4), at(2000, 9), at(3000, 10), at(4000, 15), at(5000, 19), at(9000, 22), at(14_500, 23), at(15_000, 40), at(16_000, 100)];
    await onResource({ urn: "urn:os", label: "os" }, async () => {
      const progress = taskProgress("installing dpu-os 8.1.0", () => now);
      for (const [ms, percent] of polls) {
        now = ms;
        progress(percent);
      }
    });
    const lines = engine.sent.filter((e) => !e.ephemeral).map((e) => e.message.replace("installing dpu-os 8.1.0: ", ""));
    // 10 (10 points after 0), 22 (5 s after 10, though only 12 points), 23 (5.5 s after 22), 40 and 100 (10 points each).
    expect(lines).toEqual(["0 %", "10 %", "22 %", "23 %", "40 %", "100 %"]);
    expect(engine.sent.filter((e) => e.ephemeral)).toHaveLength(polls.length);
    expect(engine.sent.every((e) => e.urn === "urn:os")).toBe(true);
  });
});
