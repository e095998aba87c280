/**
 * A loaded stack declared as a Pulumi program: the policy rules run first (an error stops
 * the program before anything is declared), then every resource of the one mapping
 * (`model/declarations.ts`) is declared, and the outputs summarise the fleet. The YAML
 * program (`index.ts`) and TypeScript programs (examples/typescript) both end here.
 */
import * as pulumi from "@pulumi/pulumi";
import { declarationAt, resourceDeclarations, type Route } from "../model/declarations";
import type { LoadedStack } from "../model/load";
import { shardDeclarations, shardLayout, stackParts } from "../model/shards";
import { checkStack, type Finding, type StackReport } from "../policies/check";
import { renderText } from "../policies/report/text";
import { declareResources, type DeclaredFleet, type DeclaredResource } from "../providers/declare";

/** What the program exports. */
export interface FleetOutputs {
  /** Per host: power, host OS, DPUs (mode, privilege, OS version), services, host PCI addresses. */
  hosts: pulumi.Output<Record<string, HostSummary>>;
  /** Per service pair: the side serving and whether it is protected. */
  servicePairs: pulumi.Output<Record<string, { activeSide: string; protected: boolean }>>;
  /** Per accelerator share: the PCI address the consumer host sees. */
  acceleratorShares: pulumi.Output<Record<string, string>>;
}

/** One host's summary. */
export interface HostSummary {
  /** `On` or `Off`. */
  powerState: string;
  /** The host OS version, or null. */
  hostOs: string | null;
  /** DPUs with mode, privilege and OS version. */
  smartnics: Array<{ name: string; mode: string; hostPrivilege: string; os: string | null }>;
  /** Services (`dpu/service`) with their state. */
  services: Array<{ name: string; state: string }>;
  /** Host PCI address per device (`dpu/device`). */
  hostPciAddresses: Record<string, string>;
}

/** Options of `declareStack`. */
export interface DeclareOptions {
  /** The management password every claimed DPU account gets (a secret). */
  password: pulumi.Input<string>;
  /** Routes to the ports by DPU serial (from the endpoints file). */
  routes?: ReadonlyMap<string, Route>;
  /** The part of a sharded stack to declare (`smartfleet:shard`: a shard, or `cross-shard`); all of it when absent. */
  shard?: string;
  /** The stack's policy report when the command that started the program made it already; else the rules run here. */
  report?: StackReport;
}

/** Checks the stack's policies, declares its resources and returns the outputs to export. */
export function declareStack(stack: LoadedStack, options: DeclareOptions): FleetOutputs {
  const report = options.report ?? checkStack(stack);
  refuseBlockingFindings(report);
  const declarations = declarationsOf(stack, options);
  for (const warning of warningsOfPart(report.findings, options.shard ? new Set(declarations.map((d) => d.name)) : undefined)) {
    pulumi.log.warn(`${warning.ruleId} ${warning.ruleName}: ${warning.message}`);
  }
  const fleet = declareResources(declarations, options.password);
  return outputsOf(stack, fleet);
}

/** The stack's declarations, or one part's when the stack is sharded (`model/shards.ts`). */
function declarationsOf(stack: LoadedStack, options: DeclareOptions) {
  const all = resourceDeclarations(stack, { routes: options.routes });
  const layout = shardLayout(stack);
  if (!layout) {
    if (options.shard) throw new pulumi.RunError(`smartfleet:shard is ${options.shard} but ${stack.file} declares no shards`);
    return all;
  }
  if (!options.shard) throw new pulumi.RunError(`${stack.file} is sharded (by ${layout.by}): each shard is its own stack; run \`smartfleet up ${stack.file}\`, or set smartfleet:shard to one of ${stackParts(layout).join(", ")}`);
  try {
    return shardDeclarations(all, layout, options.shard);
  } catch (error) {
    throw new pulumi.RunError(`smartfleet:shard: ${(error as Error).message}`);
  }
}

/** Any error stops every part of the stack: the file as a whole is what is wrong. */
function refuseBlockingFindings(report: StackReport): void {
  const blocking = report.inputErrors.length > 0 || report.findings.some((f) => f.severity === "error");
  if (blocking) throw new pulumi.RunError(`the stack breaks policy rules; nothing was changed:\n${renderText([report])}`);
}

/**
 * The warnings a program logs. A part of a sharded stack (`declared`: the names it
 * declares) logs those about its own hosts, pairs and shares and those about the stack as
 * a whole: the warnings about a 2,000-DPU fleet's 250 pairs, repeated by each of nine
 * parts, buried the few that concern the part.
 */
export function warningsOfPart(findings: readonly Finding[], declared?: ReadonlySet<string>): Finding[] {
  return findings.filter((finding) => {
    const subject = declarationAt(finding.pointer);
    return !declared || !subject || declared.has(subject);
  });
}

/** The summaries, each an output that resolves once every resource is declared. */
function outputsOf(stack: LoadedStack, declaring: Promise<DeclaredFleet>): FleetOutputs {
  const once = <T>(summary: (fleet: DeclaredFleet, declared: Set<string>) => pulumi.Output<T>): pulumi.Output<T> =>
    // A shard declares part of the stack: it summarises what it declares.
    pulumi.output(declaring.then((fleet) => summary(fleet, new Set(fleet.resources.map((r) => r.declaration.name))))) as pulumi.Output<T>;
  return {
    hosts: once((fleet, declared) => {
      const byHost = resourcesByHost(fleet);
      return byName(stack.hosts.map((h) => h.name).filter((host) => declared.has(host)), (host) => hostSummary(fleet, host, byHost.get(host) ?? []));
    }),
    servicePairs: once((fleet, declared) =>
      byName(stack.servicePairs.map((p) => p.name).filter((pair) => declared.has(`pair-${pair}`)), (pair) =>
        pulumi
          .all([fleet.output<string>(`pair-${pair}`, "activeSide"), fleet.output<boolean>(`pair-${pair}`, "protected")])
          .apply(([activeSide, isProtected]) => ({ activeSide, protected: isProtected })),
      ),
    ),
    acceleratorShares: once((fleet, declared) =>
      byName(stack.acceleratorShares.map((s) => s.name).filter((share) => declared.has(`share-${share}`)), (share) => fleet.output<string>(`share-${share}`, "hostPciAddress")),
    ),
  };
}

/** One output holding `summary(name)` for every name. */
function byName<T>(names: string[], summary: (name: string) => pulumi.Output<T>): pulumi.Output<Record<string, T>> {
  return pulumi.all(names.map(summary)).apply((values) => Object.fromEntries(names.map((name, i) => [name, values[i] as T])));
}

/** The declared resources of each host, found in one pass: a scan of the fleet per host was quadratic. */
function resourcesByHost(fleet: DeclaredFleet): Map<string, DeclaredResource[]> {
  const byHost = new Map<string, DeclaredResource[]>();
  for (const resource of fleet.resources) {
    const host = resource.declaration.host;
    if (host === undefined) continue;
    const mine = byHost.get(host);
    if (mine) mine.push(resource);
    else byHost.set(host, [resource]);
  }
  return byHost;
}

/** One host's summary, from `mine`: the host's declared resources. */
function hostSummary(fleet: DeclaredFleet, host: string, mine: DeclaredResource[]): pulumi.Output<HostSummary> {
  const of = (kind: string) => mine.filter((r) => r.declaration.kind === kind);
  const out = <T>(name: string, output: string) => fleet.output<T>(name, output);
  const onDpu = (d: { inputs: object }) => (d.inputs as { target: { smartnic: string } }).target.smartnic;
  const memberName = (d: { inputs: object }) => `${onDpu(d)}/${(d.inputs as { name: string }).name}`;
  const dpuOsVersion = (nic: string) => of("DpuOs").find((r) => onDpu(r.declaration) === nic);
  const nics = of("SmartNic").map(({ declaration: d }) => {
    const os = dpuOsVersion(onDpu(d));
    return pulumi
      .all([out<string>(d.name, "mode"), out<string>(d.name, "hostPrivilege"), os ? out<string>(os.declaration.name, "version") : undefined])
      .apply(([mode, hostPrivilege, version]) => ({ name: onDpu(d), mode, hostPrivilege, os: version ?? null }));
  });
  const services = of("DpuService").map(({ declaration: d }) => out<string>(d.name, "state").apply((state) => ({ name: memberName(d), state })));
  const devices = of("HostDevice").map(({ declaration: d }) => out<string>(d.name, "hostPciAddress").apply((address) => [memberName(d), address] as const));
  const hostOs = of("HostOsInstall")[0];
  return pulumi
    .all([pulumi.all(nics), pulumi.all(services), pulumi.all(devices), hostOs ? out<string>(hostOs.declaration.name, "version") : undefined, out<string>(host, "powerState")])
    .apply(([smartnics, serviceList, deviceList, hostOsVersion, powerState]) => ({
      powerState,
      hostOs: hostOsVersion ?? null,
      smartnics,
      services: serviceList,
      hostPciAddresses: Object.fromEntries(deviceList),
    }));
}
