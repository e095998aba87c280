/**
 * The fleet's topology as a graph: clusters ⊃ hosts ⊃ DPUs ⊃ services and host devices,
 * with fault-tolerant pairs and accelerator shares as edges across hosts. It is drawn by
 * `smartfleet graph` (SVG, DOT, Mermaid) and is meant for the dashboard too, which fills
 * in the observed state of each node.
 *
 * What is managed comes from the one stack → resources mapping (`declarations.ts`): every
 * node and edge names the Pulumi resources it draws, so a view of live state can colour it
 * by resource without a second mapping. The inventory adds what no resource declares: the
 * DPUs a stack leaves unmanaged and the accelerators a host holds.
 */
import type { Fleet } from "../schemas/generated/fleet";
import type { ResourceKind } from "../schemas/kinds";
import { resourceDeclarations, type DeclarationOf, type ResourceDeclaration } from "./declarations";
import type { HostModel, LoadedStack } from "./load";
import { groupOf } from "./rollout";

/** What a node stands for. */
export type TopologyNodeKind = "cluster" | "host" | "dpu" | "service" | "device" | "accelerator";

/** What an edge stands for. */
export type TopologyEdgeKind =
  /** A fault-tolerant service pair: primary side → secondary side. */
  | "pair"
  /** An accelerator share: the host's accelerator → the device (or DPU) that presents it to another host. */
  | "share"
  /** A service backing a host device on the same DPU: service → device. */
  | "backs";

/**
 * A node's state. `declared` (the stack says so, nothing observed) and `unmanaged` (in the
 * inventory, not in the stack) come from files; the rest are observed on the ports.
 */
export type TopologyState = "declared" | "unmanaged" | "converged" | "drifted" | "changing" | "failed" | "unprotected" | "unreachable";

/** One box of the picture. */
export interface TopologyNode {
  /** Stable id: `<kind>:<path>`, e.g. `dpu:esx-01/nic1`, `service:esx-01/nic1/dfw`. */
  id: string;
  /** What it stands for. */
  kind: TopologyNodeKind;
  /** The name shown first. */
  label: string;
  /** Further lines: model, mode, versions. */
  details: string[];
  /** The id of the node that contains it; absent at the top. */
  parent?: string;
  /** Declared, unmanaged or observed. */
  state: TopologyState;
  /** Pulumi names of the resources the node draws (none for clusters, accelerators, unmanaged DPUs). */
  resources: string[];
}

/** One line of the picture between two nodes. */
export interface TopologyEdge {
  /** Stable id: `<kind>:<from>-><to>`. */
  id: string;
  /** What it stands for. */
  kind: TopologyEdgeKind;
  /** Id of the node it starts at. */
  from: string;
  /** Id of the node it ends at. */
  to: string;
  /** Shown beside the line (the pair or share name). */
  label?: string;
  /** Pulumi name of the resource the edge draws, when one does. */
  resource?: string;
}

/** The fleet as a graph: nodes with every parent before its children, edges between them. */
export interface Topology {
  /** The stack's name (`metadata.name`). */
  stack: string;
  /** Nodes, parents first, in the stack's order (a host's managed DPUs by slot, then its unmanaged ones). */
  nodes: TopologyNode[];
  /** Edges, in the stack's order: pairs, shares, then backings per DPU. */
  edges: TopologyEdge[];
}

type Decl<K extends ResourceKind> = DeclarationOf<K>;

/** The declarations of one kind, in the mapping's order. */
function byKind<K extends ResourceKind>(all: ResourceDeclaration[], kind: K): Decl<K>[] {
  return all.filter((d) => d.kind === kind) as Decl<K>[];
}

const ids = {
  cluster: (name: string) => `cluster:${name}`,
  host: (host: string) => `host:${host}`,
  dpu: (host: string, nic: string) => `dpu:${host}/${nic}`,
  service: (host: string, nic: string, name: string) => `service:${host}/${nic}/${name}`,
  pairSide: (host: string, nic: string, pair: string) => `service:${host}/${nic}/pair:${pair}`,
  device: (host: string, nic: string, name: string) => `device:${host}/${nic}/${name}`,
  accelerator: (host: string, name: string) => `accelerator:${host}/${name}`,
};

/**
 * The topology of a loaded stack, every node `declared` (or `unmanaged`). Hosts are grouped
 * by their DPU OS cluster (the same cluster the rollout groups by) when any host has one;
 * hosts without a cluster stay at the top.
 */
export function stackTopology(stack: LoadedStack): Topology {
  const all = resourceDeclarations(stack);
  const builder = new Builder(stack.inventory);
  const clusters = clustersOf(stack);
  for (const name of [...new Set(clusters.values())].filter((c): c is string => c !== undefined).sort()) {
    builder.node({ id: ids.cluster(name), kind: "cluster", label: `cluster ${name}`, details: [], resources: [] });
  }
  const hostOs = new Map(byKind(all, "HostOsInstall").map((d) => [d.host, d]));
  for (const host of byKind(all, "Host")) {
    const cluster = clusters.get(host.inputs.name);
    builder.host(host, hostOs.get(host.inputs.name), cluster ? ids.cluster(cluster) : undefined);
  }
  const dpuOs = new Map(byKind(all, "DpuOs").map((d) => [`${d.inputs.target.host}/${d.inputs.target.smartnic}`, d]));
  // Sorting all DPUs by slot sorts each host's; `ordered` puts them under their host.
  for (const nic of byKind(all, "SmartNic").sort((a, b) => (a.inputs.slot ?? 0) - (b.inputs.slot ?? 0))) {
    builder.dpu(nic, dpuOs.get(`${nic.inputs.target.host}/${nic.inputs.target.smartnic}`));
  }
  builder.unmanagedDpus(new Set(stack.smartnics.map((n) => n.id)), stack.hosts);
  for (const service of byKind(all, "DpuService")) builder.service(service);
  for (const pair of byKind(all, "ServicePair")) builder.pair(pair);
  builder.accelerators(stack.hosts);
  const devices = byKind(all, "HostDevice");
  for (const device of devices) builder.device(device);
  for (const share of byKind(all, "AcceleratorShare")) builder.share(share, devices);
  for (const device of devices) builder.backing(device);
  return { stack: stack.stack.metadata.name, nodes: builder.ordered(), edges: builder.edges };
}

/** Each managed host's cluster, when any host has one (else no grouping at all). */
function clustersOf(stack: LoadedStack): Map<string, string | undefined> {
  const prefix = "cluster:";
  const none = `${prefix}(none)`;
  const groups = new Map(stack.hosts.map((h) => [h.name, groupOf(stack, h, "cluster")]));
  return new Map([...groups].map(([host, group]) => [host, group === none ? undefined : group.slice(prefix.length)]));
}

/** Collects nodes and edges; `ordered` returns the nodes parents first. */
class Builder {
  private readonly nodes = new Map<string, TopologyNode>();
  readonly edges: TopologyEdge[] = [];

  constructor(private readonly inventory: Fleet) {}

  node(node: Omit<TopologyNode, "state"> & { state?: TopologyState }): void {
    this.nodes.set(node.id, { ...node, state: node.state ?? "declared" });
  }

  edge(kind: TopologyEdgeKind, from: string, to: string, label?: string, resource?: string): void {
    this.edges.push({ id: `${kind}:${from}->${to}`, kind, from, to, ...(label ? { label } : {}), ...(resource ? { resource } : {}) });
  }

  host(host: Decl<"Host">, os: Decl<"HostOsInstall"> | undefined, parent: string | undefined): void {
    const { name, vendor, model } = host.inputs;
    this.node({
      id: ids.host(name),
      kind: "host",
      label: name,
      details: [`${vendor} ${model}`, ...(os ? [`${os.inputs.image} ${os.inputs.version}`] : [])],
      ...(parent ? { parent } : {}),
      resources: [host.name, ...(os ? [os.name] : [])],
    });
  }

  dpu(nic: Decl<"SmartNic">, os: Decl<"DpuOs"> | undefined): void {
    const { target, vendor, model, mode } = nic.inputs;
    this.node({
      id: ids.dpu(target.host, target.smartnic),
      kind: "dpu",
      label: target.smartnic,
      details: [`${vendor} ${model}, ${mode} mode`, os ? `${os.inputs.image} ${os.inputs.version}` : "no DPU OS"],
      parent: ids.host(target.host),
      resources: [nic.name, ...(os ? [os.name] : [])],
    });
  }

  /** The DPUs of each managed host that the stack leaves alone, after its managed ones. */
  unmanagedDpus(managed: ReadonlySet<string>, hosts: HostModel[]): void {
    for (const host of hosts) {
      const hardware = this.inventory.hosts.find((h) => h.name === host.name);
      const left = (hardware?.smartnics ?? []).filter((n) => !managed.has(`${host.name}/${n.name}`)).sort((a, b) => a.slot - b.slot);
      for (const nic of left) {
        this.node({
          id: ids.dpu(host.name, nic.name),
          kind: "dpu",
          label: nic.name,
          details: [`${nic.vendor} ${nic.model}`, "unmanaged"],
          parent: ids.host(host.name),
          state: "unmanaged",
          resources: [],
        });
      }
    }
  }

  service(service: Decl<"DpuService">): void {
    const { target, name, service: spec } = service.inputs;
    this.node({
      id: ids.service(target.host, target.smartnic, name),
      kind: "service",
      label: name,
      details: [`${spec.type} ${spec.version}`],
      parent: ids.dpu(target.host, target.smartnic),
      resources: [service.name],
    });
  }

  /** A pair is a service on each of its two DPUs, joined primary → secondary. */
  pair(pair: Decl<"ServicePair">): void {
    const { name, service, primary, secondary } = pair.inputs;
    const side = (target: typeof primary, role: string) => {
      const id = ids.pairSide(target.host, target.smartnic, name);
      this.node({ id, kind: "service", label: name, details: [`${service.type} ${service.version}`, `pair ${role}`], parent: ids.dpu(target.host, target.smartnic), resources: [pair.name] });
      return id;
    };
    this.edge("pair", side(primary, "primary"), side(secondary, "secondary"), name, pair.name);
  }

  /** Every accelerator of a managed host, whether shared or not: it is hardware in the picture. */
  accelerators(hosts: HostModel[]): void {
    for (const host of hosts) {
      for (const acc of [...(host.hardware.accelerators ?? [])].sort((a, b) => a.slot - b.slot)) {
        this.node({ id: ids.accelerator(host.name, acc.name), kind: "accelerator", label: acc.name, details: [acc.model], parent: ids.host(host.name), resources: [] });
      }
    }
  }

  device(device: Decl<"HostDevice">): void {
    const { target, name, kind, function: fn } = device.inputs;
    this.node({
      id: ids.device(target.host, target.smartnic, name),
      kind: "device",
      label: name,
      details: [`${kind} ${fn}`],
      parent: ids.dpu(target.host, target.smartnic),
      resources: [device.name],
    });
  }

  /** From the accelerator to each fpga device the share backs, or to the consuming DPU when none does. */
  share(share: Decl<"AcceleratorShare">, devices: Decl<"HostDevice">[]): void {
    const { name, sourceHost, accelerator, consumer } = share.inputs;
    const from = ids.accelerator(sourceHost, accelerator);
    const backed = devices.filter((d) => d.inputs.backingAccelerator === name);
    const targets = backed.length ? backed.map((d) => ids.device(d.inputs.target.host, d.inputs.target.smartnic, d.inputs.name)) : [ids.dpu(consumer.host, consumer.smartnic)];
    for (const to of targets) this.edge("share", from, to, name, share.name);
  }

  backing(device: Decl<"HostDevice">): void {
    const { target, name, backingService } = device.inputs;
    if (!backingService) return;
    this.edge("backs", ids.service(target.host, target.smartnic, backingService), ids.device(target.host, target.smartnic, name));
  }

  /** Nodes with every parent before its children, siblings in the order they were added. */
  ordered(): TopologyNode[] {
    const children = childrenOf({ stack: "", nodes: [...this.nodes.values()], edges: [] });
    const out: TopologyNode[] = [];
    const visit = (parent: string | undefined) => {
      for (const node of children.get(parent) ?? []) {
        out.push(node);
        visit(node.id);
      }
    };
    visit(undefined);
    return out;
  }
}

/** Each node's children by parent id (`undefined`: the top), in the topology's order. */
export function childrenOf(topology: Topology): Map<string | undefined, TopologyNode[]> {
  const children = new Map<string | undefined, TopologyNode[]>();
  for (const node of topology.nodes) children.set(node.parent, [...(children.get(node.parent) ?? []), node]);
  return children;
}

/** What one managed DPU's management port showed in one read. */
export type DpuObservation =
  | {
      /** The port did not answer, or refused every password tried. */
      reachable: false;
      /** Why, for the picture. */
      reason: string;
    }
  | {
      reachable: true;
      /** Current mode and host privilege; null when the port does not say. */
      mode: string | null;
      hostPrivilege: string | null;
      /** The DPU's own power state (`On` while it runs). */
      powerState: string | null;
      /** The DPU OS resource; null when the port has none installed or shows none. */
      dpuOs: { image: string | null; version: string | null; state: string | null } | null;
      /** The host OS installed through this DPU; null when none. */
      hostOs: { image: string; version: string } | null;
      /** Services by name; null when the port does not list them (no OEM collection). */
      services: Record<string, { state: string | null; version: string | null }> | null;
      /** Host devices by name; null when the port does not list them. */
      devices: Record<string, { kind: string | null; function: string | null }> | null;
      /** Service pairs this DPU is primary of, by name; null when the port does not list them. */
      pairs: Record<string, { state: string | null; protected: boolean }> | null;
      /** The port's unfinished tasks (an install, a deploy) and how far each is; absent when not read. */
      tasks?: Array<{ name: string; percent: number | null }>;
    };

/** A node's observed state and what differs from the stack (shown as extra lines). */
interface Verdict {
  state: TopologyState;
  notes: string[];
}

/** A member the port has no collection for: nothing observed, so the stack's word stands. */
const UNLISTED: Verdict = { state: "declared", notes: ["not listed by the port"] };

/** `declared → observed`, when they differ. */
function differs(what: string, declared: unknown, observed: unknown): string[] {
  return declared === observed ? [] : [`${what} ${String(observed ?? "none")}, not ${String(declared)}`];
}

/** Drifted when anything differs, else converged. */
function verdict(notes: string[]): Verdict {
  return { state: notes.length ? "drifted" : "converged", notes };
}

/**
 * The topology with each managed node's observed state: `converged`, `drifted` (with what
 * differs as extra detail lines), `changing` (a DPU OS installing, a service deploying, a
 * task running on the port, with its percent), `failed` (a DPU off, a service failed), `unprotected` (a pair not protected) or
 * `unreachable`. Declared values come from the same declarations the topology was drawn
 * from; `observed` is keyed by DPU id (`host/nic`). Unmanaged DPUs, clusters and
 * accelerators keep their state.
 */
export function observeTopology(stack: LoadedStack, topology: Topology, observed: Readonly<Record<string, DpuObservation>>): Topology {
  const declarations = new Map(resourceDeclarations(stack).map((d) => [d.name, d]));
  const judge = (node: TopologyNode): Verdict | undefined => {
    const decls = node.resources.map((name) => declarations.get(name)).filter((d): d is ResourceDeclaration => d !== undefined);
    const first = decls[0];
    if (!first) return undefined;
    const dpuOf = (target: { host: string; smartnic: string }) => observed[`${target.host}/${target.smartnic}`];
    switch (first.kind) {
      case "SmartNic":
        return judgeDpu(first, decls.find((d): d is Decl<"DpuOs"> => d.kind === "DpuOs"), dpuOf(first.inputs.target));
      case "Host":
        return judgeHost(decls.find((d): d is Decl<"HostOsInstall"> => d.kind === "HostOsInstall"), dpuOf(first.inputs.via));
      case "DpuService":
        return judgeOn(dpuOf(first.inputs.target), (seen) => {
          if (!seen.services) return UNLISTED;
          const service = seen.services[first.inputs.name];
          if (!service) return { state: "drifted", notes: ["missing"] };
          if (service.state === "Deploying") return { state: "changing", notes: ["deploying"] };
          if (service.state === "Failed") return { state: "failed", notes: ["failed"] };
          return verdict(differs("version", first.inputs.service.version, service.version));
        });
      case "HostDevice":
        return judgeOn(dpuOf(first.inputs.target), (seen) => {
          if (!seen.devices) return UNLISTED;
          const device = deviceOf(seen.devices, first.inputs.name, first.inputs.backingAccelerator);
          if (!device) return { state: "drifted", notes: ["missing"] };
          return verdict([...differs("kind", first.inputs.kind, device.kind), ...differs("function", first.inputs.function, device.function)]);
        });
      case "ServicePair":
        return judgeOn(dpuOf(first.inputs.primary), (seen) => {
          if (!seen.pairs) return UNLISTED;
          const pair = seen.pairs[first.inputs.name];
          if (!pair) return { state: "drifted", notes: ["missing"] };
          if (pair.state === "Deploying") return { state: "changing", notes: ["deploying"] };
          if (pair.state === "Failed") return { state: "failed", notes: ["failed"] };
          return pair.protected ? { state: "converged", notes: [] } : { state: "unprotected", notes: ["not protected"] };
        });
      default:
        return undefined;
    }
  };
  const nodes = topology.nodes.map((node) => {
    const found = node.state === "unmanaged" ? undefined : judge(node);
    return found ? { ...node, state: found.state, details: [...node.details, ...found.notes] } : node;
  });
  return { ...topology, nodes };
}

/**
 * The device a HostDevice stands for: by its name, or for an fpga device by the share that
 * created it (the port names it `fpga-<source serial>-<share>`, as the provider finds it).
 */
function deviceOf<T extends { kind: string | null }>(devices: Record<string, T>, name: string, share: string | undefined): T | undefined {
  if (!share) return devices[name];
  return Object.entries(devices).find(([id, d]) => d.kind === "fpga" && id.endsWith(`-${share}`))?.[1];
}

/** A node on a DPU: unreachable with it, else what `judge` says of the DPU's observation. */
function judgeOn(seen: DpuObservation | undefined, judge: (seen: Extract<DpuObservation, { reachable: true }>) => Verdict): Verdict {
  if (!seen) return { state: "unreachable", notes: ["not read"] };
  if (!seen.reachable) return { state: "unreachable", notes: [] };
  return judge(seen);
}

function judgeDpu(nic: Decl<"SmartNic">, os: Decl<"DpuOs"> | undefined, seen: DpuObservation | undefined): Verdict {
  if (seen && !seen.reachable) return { state: "unreachable", notes: [seen.reason] };
  return judgeOn(seen, (dpu) => {
    // Work under way first: a DPU rebooting for a task is changing, not failed.
    const tasks = (dpu.tasks ?? []).map((t) => (t.percent === null ? t.name : `${t.name} ${t.percent} %`));
    if (dpu.dpuOs?.state === "Installing") return { state: "changing", notes: ["DPU OS installing", ...tasks] };
    if (tasks.length) return { state: "changing", notes: tasks };
    if (dpu.powerState !== null && dpu.powerState !== "On") return { state: "failed", notes: [`power ${dpu.powerState}`] };
    const notes = [...differs("mode", nic.inputs.mode, dpu.mode), ...differs("privilege", nic.inputs.hostPrivilege, dpu.hostPrivilege)];
    if (os) notes.push(...differs("DPU OS", `${os.inputs.image} ${os.inputs.version}`, dpu.dpuOs?.image ? `${dpu.dpuOs.image} ${dpu.dpuOs.version}` : null));
    return verdict(notes);
  });
}

function judgeHost(os: Decl<"HostOsInstall"> | undefined, seen: DpuObservation | undefined): Verdict {
  return judgeOn(seen, (dpu) => {
    if (!os) return verdict([]);
    return verdict(differs("OS", `${os.inputs.image} ${os.inputs.version}`, dpu.hostOs ? `${dpu.hostOs.image} ${dpu.hostOs.version}` : null));
  });
}
