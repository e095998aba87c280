/**
 * The refresh loop: every interval, each managed DPU's port read once (`observeDpus`, one
 * expanded GET per port in a read pass), the stack's topology judged against what was
 * read (`observeTopology`), the rollout store read, and the new `FleetState` handed to
 * every subscriber (the server-sent event streams). Refreshes never overlap: the next
 * starts `intervalMs` after the previous one ended, so a slow fleet slows the page down
 * instead of piling requests on the ports. At most `concurrency` ports are read at once:
 * a thousand TLS handshakes started together would hold the server's thread for seconds.
 * The rollout store is read once per refresh (awaited: PostgreSQL answers over the
 * network); the state before the first refresh takes its last read and never waits.
 */
import type { LoadedStack } from "../../model/load";
import { observeTopology, type DpuObservation, type Topology } from "../../model/topology";
import { observeDpus, type ObservedTarget } from "../graph/live";
import { declaredState, fleetState, type FleetState } from "./fleet-state";
import type { RolloutReader } from "./rollout-now";

/** Reads the ports: by default `observeDpus`; a test may count or stand in for it. */
export type Observe = (targets: ObservedTarget[], caPem: string) => Promise<{ observed: Record<string, DpuObservation>; requests: Record<string, number> }>;

export interface MonitorOptions {
  /** The Pulumi stack read (shown on the page). */
  pulumiStack: string;
  loaded: LoadedStack;
  /** The stack's topology, every node declared. */
  declared: Topology;
  targets: ObservedTarget[];
  caPem: string;
  rollout: RolloutReader;
  /** Pause between the end of one refresh and the start of the next. */
  intervalMs: number;
  /** Ports read at once (default 64). */
  concurrency?: number;
  observe?: Observe;
}

type Listener = (state: FleetState) => void;

export class FleetMonitor {
  private state: FleetState | undefined;
  private readonly listeners = new Set<Listener>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<FleetState> | undefined;
  private stopped = false;
  /** The last refresh's failure (the loop goes on), for the log. */
  lastError: string | undefined;

  constructor(private readonly opts: MonitorOptions) {}

  /** The latest state: before the first refresh ends, what the stack declares (`observed: false`). */
  current(): FleetState {
    this.state ??= declaredState(this.opts.declared.stack, this.opts.pulumiStack, this.opts.declared, this.opts.rollout.latest(), Date.now());
    return this.state;
  }

  /** Calls `listener` with every new state until the returned function is called. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts the loop with a refresh now. */
  start(): void {
    this.stopped = false;
    void this.tick();
  }

  /** Stops the loop (a refresh under way finishes) and closes the rollout store. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    this.opts.rollout.close();
  }

  private async tick(): Promise<void> {
    try {
      await this.refresh();
      this.lastError = undefined;
    } catch (error) {
      // A refresh that fails as a whole (not one port: those are `unreachable`) is retried next time.
      this.lastError = String((error as Error)?.message ?? error);
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), this.opts.intervalMs);
  }

  /** One refresh; a caller arriving while one runs shares it. */
  refresh(): Promise<FleetState> {
    this.running ??= this.readOnce().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async readOnce(): Promise<FleetState> {
    const { loaded, declared, targets, caPem, rollout } = this.opts;
    const startedAt = Date.now();
    const observe = this.opts.observe ?? observeDpus;
    const observed: Record<string, DpuObservation> = {};
    const requests: Record<string, number> = {};
    let next = 0;
    const reader = async () => {
      while (next < targets.length) {
        const one = await observe([targets[next++]], caPem);
        Object.assign(observed, one.observed);
        Object.assign(requests, one.requests);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency ?? 64, targets.length) }, reader));
    const state = fleetState(
      {
        stack: declared.stack,
        pulumiStack: this.opts.pulumiStack,
        startedAt,
        finishedAt: Date.now(),
        requests: Object.values(requests).reduce((a, b) => a + b, 0),
        dpusRead: Object.values(observed).filter((o) => o.reachable).length,
        declared,
        observed: observeTopology(loaded, declared, observed),
        rollout: await rollout.read(),
      },
      this.state,
    );
    this.state = state;
    for (const listener of this.listeners) listener(state);
    return state;
  }
}
