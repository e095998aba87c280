/**
 * The simulated fleet: every DPU's state and the rules of the hardware (capacity, mode,
 * reboots, installs, failover), independent of HTTP. The core holds state, time and the
 * one transaction; each domain (accounts, hardware, offloads, faults) adds its rules, and
 * the task lifecycle runs the long operations whose ends the domains define.
 */
import { Accounts } from "./accounts";
import { Bmc } from "./bmc";
import { SimulationCore } from "./core";
import { Disruptions } from "./disruptions";
import { EventService } from "./event-service";
import { Faults } from "./faults";
import { HttpsCertificates } from "./https-certificate";
import { Hardware } from "./hardware";
import { Maintenance } from "./maintenance";
import { Offloads } from "./offloads";
import { TaskEngine } from "./tasks";

export { LOCKOUT, SESSION_TIMEOUT_MS } from "./accounts";
export { DURATIONS_MS, type SimulationOptions, type Transaction } from "./core";
export type { PublicDisruption } from "./disruptions";
export type { DriftChange } from "./faults";
export { OS_RESERVE } from "./offloads";
export { MAX_TASKS_PER_DPU } from "./tasks";

/** The simulated fleet: the core's state and queries, with one object per domain for the changes. */
export class Simulation extends SimulationCore {
  private readonly lifecycle = new TaskEngine(this);
  /** Accounts, sessions, lockout. */
  readonly accounts = new Accounts(this);
  /** BIOS, power, firmware, boot and virtual media. */
  readonly hardware = new Hardware(this, this.lifecycle);
  /** Services, host devices, service pairs, accelerator shares. */
  readonly offloads = new Offloads(this, this.lifecycle);
  /** Crashes, recovery and drift (the admin API). */
  readonly faults = new Faults(this, this.lifecycle);
  /** Host maintenance and workloads. */
  readonly maintenance = new Maintenance(this, this.lifecycle);
  /** The management controller: its restarts and uptime. */
  readonly bmc = new Bmc(this);
  /** The certificate each port presents on HTTPS, and its replacement. */
  readonly certificates = new HttpsCertificates(this);
  /** Event subscriptions, streams and delivery. */
  readonly events = new EventService(this);
  /** The disruption log, kept from the state at every change. */
  readonly disruptions = new Disruptions(this, this.offloads);

  /** Loads stored state, creates DPUs new to the inventory, resumes or ends tasks left in flight, and brings the disruption log in line. */
  start(): void {
    this.load();
    this.lifecycle.recoverInFlight();
    this.disruptions.reconcileAll();
  }

  /** Cancels timers (state is already on disk). */
  stop(): void {
    this.lifecycle.stop();
  }
}
