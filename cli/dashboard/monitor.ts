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
 *
 * The ports' own log entries come with the same read (`port-log.ts`); between refreshes
 * the server-sent event streams of a bounded set of ports (`port-streams.ts`: the ports
 * not converged first) bring their events as they happen, to the event subscribers.
 */
import type { LoadedStack } from "../../model/load";
import { observeTopology, type DpuObservation, type Topology } from "../../model/topology";
import { endpointUrl } from "../../providers/common/dpu";
import { observeDpus, type AlsoRead, type ObservedTarget } from "../graph/live";
import { FleetEventLog, type PortEvent } from "./event-log";
import { declaredState, fleetState, type FleetNode, type FleetState } from "./fleet-state";
import { readPortLog, type PortLog } from "./port-log";
import { PortStreams, type StreamTarget } from "./port-streams";
import type { RolloutReader } from "./rollout-now";

/**
 * Reads the ports: by default `observeDpus`, with each answering port's log (`also`) in
 * `extras`; a test may count or stand in for it.
 */
export type Observe = (
  targets: ObservedTarget[],
  caPem: string,
  also: AlsoRead<PortLog>,
) => Promise<{ observed: Record<string, DpuObservation>; requests: Record<string, number>; extras?: Record<string, PortLog> }>;

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
  /** Port event streams open at most (default `MAX_STREAMS`); 0 follows none. */
  maxStreams?: number;
}

type Listener = (state: FleetState) => void;
type EventListener = (events: PortEvent[]) => void;

/** States of a DPU that make its port worth following between refreshes. */
const SETTLED: ReadonlySet<string> = new Set(["converged", "declared", "unmanaged"]);

export class FleetMonitor {
  private state: FleetState | undefined;
  private readonly listeners = new Set<Listener>();
  private readonly eventListeners = new Set<EventListener>();
  private readonly events = new FleetEventLog();
  private streams: PortStreams | undefined;
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

  /** Calls `listener` with the port events each stream brings between refreshes, until the returned function is called. */
  subscribeEvents(listener: EventListener): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Starts the loop with a refresh now. */
  start(): void {
    this.stopped = false;
    this.streams ??= new PortStreams(this.opts.caPem, (dpu, entry, logged) => this.streamed(this.events.fromStream(dpu, entry, logged)), this.opts.maxStreams);
    void this.tick();
  }

  /** Stops the loop (a refresh under way finishes), the port streams, and closes the rollout store. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
    this.streams?.close();
    this.streams = undefined;
    this.opts.rollout.close();
  }

  /** The DPUs whose event streams are open now. */
  followed(): string[] {
    return this.streams?.followed() ?? [];
  }

  private streamed(added: PortEvent[]): void {
    if (added.length === 0) return;
    for (const listener of this.eventListeners) listener(added);
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
    const observe: Observe = this.opts.observe ?? ((t, ca, also) => observeDpus(t, ca, { also }));
    const observed: Record<string, DpuObservation> = {};
    const requests: Record<string, number> = {};
    const logs: Record<string, PortLog> = {};
    let next = 0;
    const reader = async () => {
      while (next < targets.length) {
        const target = targets[next++];
        const one = await observe([target], caPem, (client, password) => readPortLog(client, password, this.events.mark(target.id)));
        Object.assign(observed, one.observed);
        Object.assign(requests, one.requests);
        const log = one.extras?.[target.id];
        if (log) {
          logs[target.id] = log;
          // Taken now, so an event streamed while the rest are read is recognised as taken.
          this.events.fromLog(target.id, log.entries);
        }
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
        events: this.events.latest(),
      },
      this.state,
    );
    this.state = state;
    this.follow(state.nodes, logs);
    for (const listener of this.listeners) listener(state);
    return state;
  }

  /** Opens the streams of the ports worth following: those not settled first, then those followed already, then the rest. */
  private follow(nodes: FleetNode[], logs: Record<string, PortLog>): void {
    if (!this.streams) return;
    const followed = new Set(this.streams.followed());
    const stateOf = new Map(nodes.map((n) => [n.id, n.state]));
    const rank = (dpu: string): number => (!SETTLED.has(stateOf.get(`dpu:${dpu}`) ?? "converged") ? 0 : followed.has(dpu) ? 1 : 2);
    const wanted: StreamTarget[] = this.opts.targets.flatMap((t) => {
      const log = logs[t.id];
      return log?.streamUri ? [{ dpu: t.id, url: endpointUrl(t.target), uri: log.streamUri, username: t.username, password: log.password }] : [];
    });
    this.streams.follow(wanted.map((w, i) => ({ w, i })).sort((a, b) => rank(a.w.dpu) - rank(b.w.dpu) || a.i - b.i).map(({ w }) => w));
  }
}
