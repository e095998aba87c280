import { describe, expect, it } from "vitest";
import { EVENTS_KEPT, FleetEventLog, messageText } from "../../cli/dashboard/event-log";
import type { PortLogEntry } from "../../cli/dashboard/port-log";
import { entryOfEvent } from "../../cli/dashboard/port-streams";

const entry = (id: number, over: Partial<PortLogEntry> = {}): PortLogEntry => ({
  id: String(id),
  created: 1_000 * id,
  severity: "OK",
  messageId: "TaskEvent.1.0.TaskStarted",
  message: `entry ${id}`,
  args: [],
  ...over,
});

/**
 * The dashboard's event log: each port's entries once, whether a refresh read them from
 * its log or its stream pushed them first; only entries newer than those taken; a port
 * whose numbering restarted starts over; the newest kept.
 */
describe("dashboard event log", () => {
  it("takes a port's log entries once, newer than its mark, and a streamed entry the log later holds is not listed again", () => {
    const log = new FleetEventLog();
    expect(log.fromLog("esx-01/nic1", [entry(1), entry(2)]).map((e) => e.key)).toEqual(["esx-01/nic1#1", "esx-01/nic1#2"]);
    expect(log.mark("esx-01/nic1")).toEqual({ id: 2, created: 2_000 });
    expect(log.mark("esx-02/nic1")).toEqual({ id: -1, created: -Infinity });
    // Streamed first, then in the next refresh's read of the log (with the older ones).
    expect(log.fromStream("esx-01/nic1", entry(3), true)).toMatchObject([{ key: "esx-01/nic1#3", via: "stream", host: "esx-01" }]);
    expect(log.fromLog("esx-01/nic1", [entry(1), entry(2), entry(3), entry(4)]).map((e) => e.key)).toEqual(["esx-01/nic1#4"]);
    // An event the port does not log (a test event) is listed under its own id and moves no mark.
    const test = entryOfEvent({ EventId: "MT01-test1", EventTimestamp: "2026-12-01T10:00:00+00:00", MessageSeverity: "OK", Message: "hello", MessageId: "ResourceEvent.1.4.3.TestMessage" });
    expect(test.logged).toBe(false);
    expect(log.fromStream("esx-01/nic1", test.entry, false)).toMatchObject([{ key: "esx-01/nic1#MT01-test1", message: "hello", at: Date.parse("2026-12-01T10:00:00Z") }]);
    expect(log.fromStream("esx-01/nic1", test.entry, false)).toEqual([]);
    expect(log.mark("esx-01/nic1").id).toBe(4);
    expect(new Set(log.latest().map((e) => e.key)).size).toBe(log.latest().length);
  });

  it("starts a port over when its numbering went back (the controller restarted), and keeps the newest entries of the fleet", () => {
    const log = new FleetEventLog();
    log.fromLog("a/nic1", [entry(7), entry(8)]);
    expect(log.fromLog("a/nic1", [entry(1, { created: 50_000 })]).map((e) => e.key)).toEqual(["a/nic1#1"]);
    const many = Array.from({ length: EVENTS_KEPT + 10 }, (_, i) => entry(i + 1, { created: 100_000 + i }));
    log.fromLog("b/nic1", many);
    const kept = log.latest();
    expect(kept).toHaveLength(EVENTS_KEPT);
    expect(kept[kept.length - 1].key).toBe(`b/nic1#${EVENTS_KEPT + 10}`);
    expect(kept.every((e, i) => i === 0 || kept[i - 1].at <= e.at)).toBe(true);
  });

  it("reads a streamed event's log entry id from its EventId, and shows the MessageId with its arguments when the port gave no text", () => {
    const { entry: e, logged } = entryOfEvent({ EventId: "MT0000000001-42", EventTimestamp: "2026-12-01T10:00:00+00:00", MessageSeverity: "Warning", MessageId: "Base.1.22.1.AccessDenied", MessageArgs: ["/redfish/v1/Systems"] });
    expect(logged).toBe(true);
    expect(e).toMatchObject({ id: "42", severity: "Warning", args: ["/redfish/v1/Systems"] });
    expect(messageText(e)).toBe("Base.1.22.1.AccessDenied (/redfish/v1/Systems)");
    expect(messageText({ ...e, message: "failed login" })).toBe("failed login");
  });
});
