/**
 * The disruption log: the fleet keeps score of what a rollout did to it. Every interval in
 * which a DPU rebooted, a host was power-cycled or reinstalled, a service restarted, a
 * service pair was unprotected, a host was in maintenance, or a host went down with its
 * workloads still running, from start to end in clock milliseconds, persisted with the
 * state. The intervals are derived from the state itself at every change (and where a task
 * that ends at once starts), so no operation has to remember to log itself: whatever makes
 * a condition true opens its interval, whatever ends it closes it.
 */
import type { DisruptionSubject } from "../disruption-table";
import { subjectKey } from "../disruption-table";
import type { DisruptionRecord } from "../model";
import type { SimulationCore, Transaction } from "./core";

/** A record as the admin API shows it. */
export type PublicDisruption = Omit<DisruptionRecord, "id">;

/** Whether a pair is protected (the offloads domain decides). */
export interface PairProtection {
  pairProtected(primarySerial: string, pairId: string): boolean;
}

/** Derives, keeps and answers the disruption log. */
export class Disruptions {
  constructor(
    private readonly core: SimulationCore,
    private readonly pairs: PairProtection,
  ) {
    core.onCheckpoint((txn) => this.reconcile(txn, this.hostsAround(txn)));
  }

  /** Brings the whole log in line with the state (at start: the inventory may have changed). */
  reconcileAll(): void {
    this.core.transact((txn) => this.reconcile(txn, null));
  }

  /** The log sorted by start; with `since`, only intervals still going on at or after it. */
  list(since?: number): PublicDisruption[] {
    return this.core.disruptionTable
      .all()
      .filter((r) => since === undefined || r.end === null || r.end >= since)
      .sort((a, b) => a.start - b.start || a.id - b.id)
      .map(({ id: _id, ...rest }) => rest);
  }

  /** Forgets every ended interval (ongoing ones still hold); answers how many went. */
  clear(): number {
    return this.core.transact((txn) => {
      const ended = this.core.disruptionTable.all().filter((r) => r.end !== null);
      for (const r of ended) {
        this.core.disruptionTable.delete(r.id);
        txn.deletedDisruptions.push(r);
      }
      return ended.length;
    });
  }

  /** Hosts whose conditions a change may have moved: those of the DPUs it touched and of the primaries of pairs they are secondary of. */
  private hostsAround(txn: Transaction): Set<string> {
    const hosts = new Set<string>();
    for (const serial of txn.dpus.keys()) {
      if (!this.core.has(serial)) continue;
      hosts.add(this.core.placement(serial).host.name);
      for (const m of this.core.docOf(serial).pairMemberships) if (this.core.has(m.primarySerial)) hosts.add(this.core.placement(m.primarySerial).host.name);
    }
    return hosts;
  }

  /** Opens intervals for conditions that now hold and closes those that no longer do, within `hosts` (null: everywhere). */
  private reconcile(txn: Transaction, hosts: Set<string> | null): void {
    if (hosts !== null && hosts.size === 0) return;
    const now = this.core.clock.now();
    const table = this.core.disruptionTable;
    const active = this.conditions(hosts ?? this.core.hostNames());
    for (const record of table.allOngoing()) {
      if (hosts !== null && !hosts.has(record.host)) continue;
      if (active.has(subjectKey(record))) continue;
      txn.disruption(record);
      table.close(record, now);
    }
    for (const [key, subject] of active) {
      if (table.ongoingOf(key)) continue;
      txn.disruption(table.open(subject, now), true);
    }
  }

  /** Every condition that holds now on `hosts`, by subject key. */
  private conditions(hosts: Iterable<string>): Map<string, DisruptionSubject> {
    const active = new Map<string, DisruptionSubject>();
    const add = (s: DisruptionSubject): void => {
      active.set(subjectKey(s), s);
    };
    for (const host of hosts) {
      const serials = this.core.serialsOfHost(host);
      if (serials.length === 0) continue;
      let hostDown = false;
      for (const dpu of serials) {
        const d = this.core.docOf(dpu);
        const running = this.core.tasksOf(dpu).filter((t) => t.state === "Running" || t.state === "New");
        if (this.core.rebooting(dpu)) {
          add({ kind: "dpu-reboot", host, dpu });
          hostDown = true;
        }
        const hostResets = running.filter((t) => t.kind.type === "host-reset");
        if (hostResets.some((t) => t.kind.type === "host-reset" && (t.kind.install !== null || t.kind.installError !== null))) {
          add({ kind: "host-os-install", host, dpu });
          hostDown = true;
        } else if (hostResets.length > 0 || d.host.powerState === "Off") {
          add({ kind: "host-power-cycle", host, dpu });
          hostDown = true;
        }
        for (const t of running) {
          if (t.kind.type === "service-deploy" && t.kind.restart) add({ kind: "service-restart", host, dpu, service: t.kind.serviceId });
        }
        for (const p of d.servicePairs) {
          if (!this.pairs.pairProtected(dpu, p.id)) add({ kind: "pair-unprotected", host, dpu, pair: p.id });
        }
      }
      const maintenance = this.core.docOf(serials[0]).host.maintenance;
      if (maintenance.state !== "off") add({ kind: "maintenance", host });
      if (hostDown && maintenance.workloadsRunning > 0) add({ kind: "workload-outage", host });
    }
    return active;
  }
}
