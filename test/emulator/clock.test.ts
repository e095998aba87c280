import { describe, expect, it } from "vitest";
import { ManualClock } from "../../emulator/clock";

describe("ManualClock", () => {
  it("fires due timers in time order, with now() at each timer's due time", () => {
    const clock = new ManualClock(1000);
    const seen: Array<[string, number]> = [];
    clock.schedule(300, () => seen.push(["b", clock.now()]));
    clock.schedule(100, () => {
      seen.push(["a", clock.now()]);
      clock.schedule(50, () => seen.push(["a2", clock.now()]));
    });
    clock.schedule(900, () => seen.push(["late", clock.now()]));
    clock.advance(400);
    expect(seen).toEqual([["a", 1100], ["a2", 1150], ["b", 1300]]);
    expect(clock.now()).toBe(1400);
    expect(clock.pendingTimers()).toBe(1);
  });

  it("never fires a cancelled timer", () => {
    const clock = new ManualClock();
    let fired = false;
    const cancel = clock.schedule(10, () => (fired = true));
    cancel();
    clock.advance(100);
    expect(fired).toBe(false);
  });
});
