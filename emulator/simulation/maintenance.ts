/**
 * Host maintenance: each host runs the inventory's `workloads.count` workloads; entering
 * maintenance evacuates them (a task of the host's `evacuationSeconds`, scaled like every
 * other duration), after which the host runs none and may be disrupted without an outage;
 * leaving maintenance brings them back. The state is the host's, so it is kept the same on
 * every DPU of the host, whichever port the action came through.
 */
import type { HostMaintenanceState, TaskRecord } from "../model";
import { ServiceError } from "../service-error";
import type { SimulationCore, Transaction } from "./core";
import type { TaskEngine } from "./tasks";

/** Host maintenance and workloads. */
export class Maintenance {
  constructor(
    private readonly core: SimulationCore,
    private readonly tasks: TaskEngine,
  ) {
    tasks.register("host-evacuate", { finish: (txn, task) => this.finishEvacuation(txn, task) });
  }

  /** The host's maintenance state as the DPU `serial` sees it. */
  of(serial: string): HostMaintenanceState {
    return this.core.docOf(serial).host.maintenance;
  }

  /**
   * Starts evacuating the host of `serial` (a task); the task running already when the
   * host is entering through this port, or one that ends at once when it is in maintenance.
   */
  enter(serial: string): TaskRecord {
    return this.core.transact((txn) => {
      const { host } = this.core.placement(serial);
      const state = this.of(serial).state;
      if (state === "entering") {
        const running = this.evacuation(host.name);
        if (running && running.serial === serial) return running;
        throw new ServiceError(409, "ResourceInUse", [], `host ${host.name} is entering maintenance through the port of DPU ${running?.serial ?? "?"}; follow that task there`);
      }
      const name = `Enter maintenance of host ${host.name}`;
      if (state === "on") return this.tasks.start(txn, serial, name, { type: "host-evacuate" }, 0);
      this.set(txn, host.name, { state: "entering", workloadsRunning: this.of(serial).workloadsRunning });
      return this.tasks.start(txn, serial, name, { type: "host-evacuate" }, (host.workloads?.evacuationSeconds ?? 30) * 1000);
    });
  }

  /** Ends the host's maintenance: its workloads return (an evacuation under way ends Killed). Nothing to do when it is not in maintenance. */
  exit(serial: string): void {
    this.core.transact((txn) => {
      const { host } = this.core.placement(serial);
      if (this.of(serial).state === "off") return;
      const running = this.evacuation(host.name);
      if (running) this.tasks.end(txn, running, "Killed", `maintenance of host ${host.name} was exited before the evacuation ended`);
      this.set(txn, host.name, { state: "off", workloadsRunning: host.workloads?.count ?? 0 });
    });
  }

  private finishEvacuation(txn: Transaction, task: TaskRecord): void {
    const { host } = this.core.placement(task.serial);
    const evacuated = this.of(task.serial).workloadsRunning;
    this.set(txn, host.name, { state: "on", workloadsRunning: 0 });
    this.tasks.end(txn, task, "Completed", `host ${host.name} is in maintenance; ${evacuated} workloads evacuated`);
  }

  /** The evacuation running for a host, on whichever of its DPUs' ports it started. */
  private evacuation(host: string): TaskRecord | undefined {
    for (const serial of this.core.serialsOfHost(host)) {
      const t = this.tasks.running(serial).find((x) => x.kind.type === "host-evacuate");
      if (t) return t;
    }
    return undefined;
  }

  private set(txn: Transaction, host: string, state: HostMaintenanceState): void {
    for (const serial of this.core.serialsOfHost(host)) txn.dpu(serial).host.maintenance = { ...state };
  }
}
