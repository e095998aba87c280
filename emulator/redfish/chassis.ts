/**
 * The card chassis and its network adapter as a DPU's BMC serves them, beyond what
 * `resources.ts` renders: the card's `PowerState` (it draws from its host's slot), its
 * `PowerSubsystem` and `ThermalSubsystem` (`ThermalMetrics`) and the `Sensors` both read
 * from (temperatures, slot voltage, card power); the adapter's `Ports`, `Metrics`, `SKU`,
 * `@Redfish.Settings` and `NetworkAdapter.ResetSettingsToDefault`.
 *
 * Readings follow the state, not a random walk, so a GET repeats its ETag until something
 * changes: an unpowered card reads nothing, a running one warms with the Arm cores its
 * services reserve. Sensor ids and shapes follow a real BlueField-3 (Chassis/Card1/Sensors).
 */
import type { DpuState } from "../model";
import { notFound } from "../service-error";
import { OS_RESERVE } from "../simulation/offloads";
import { collection, done, link, noParameters, ok, requireParam, status, V1, type BmcContext, type BmcRoutes } from "./bmc-kit";
import type { RenderContext, Resource } from "./resources";

/** What a card model is rated for: its power budget and port speed. */
const CARD_RATINGS: Record<string, { watts: number; portGbps: number }> = {
  "bluefield-2": { watts: 75, portGbps: 100 },
  "bluefield-3": { watts: 150, portGbps: 200 },
  "pensando-dsc2": { watts: 75, portGbps: 200 },
  "ipu-e2000": { watts: 75, portGbps: 100 },
};

const PORTS = ["eth0", "eth1"] as const;

function chassisUri(c: RenderContext): string {
  return `${V1}/Chassis/${c.ids.chassis}`;
}

function adapterUri(c: RenderContext): string {
  return `${chassisUri(c)}/NetworkAdapters/${c.ids.adapter}`;
}

function ratings(c: RenderContext): { watts: number; portGbps: number } {
  return CARD_RATINGS[c.sim.placement(c.serial).nic.model] ?? { watts: 75, portGbps: 100 };
}

/** True while the card has power: its host is on. */
function powered(d: DpuState): boolean {
  return d.host.powerState === "On";
}

/** Share (0..1) of the Arm cores in use: the OS's reserve and what services and pair sides reserve, while the Arm system runs. */
function armLoad(c: RenderContext): number {
  const d = c.sim.docOf(c.serial);
  if (d.dpu.powerState !== "On" || d.dpu.crashed) return 0;
  const { nic } = c.sim.placement(c.serial);
  const used = OS_RESERVE.cores + [...d.services, ...d.servicePairs, ...d.pairMemberships].reduce((n, s) => n + s.cores, 0);
  return Math.min(1, used / Math.max(1, nic.armCores));
}

interface SensorSpec {
  id: string;
  name: string;
  type: "Temperature" | "Voltage" | "Power";
  units: string;
  context: string;
  range: [number, number];
  thresholds: Resource;
  reading(c: RenderContext): number;
}

const round = (x: number, digits = 1): number => Number(x.toFixed(digits));

const SENSORS: SensorSpec[] = [
  { id: "bluefield_temp", name: "bluefield temp", type: "Temperature", units: "Cel", context: "CPU", range: [0, 255], thresholds: { UpperCaution: { Reading: 95 }, UpperCritical: { Reading: 105 } }, reading: (c) => round(40 + 40 * armLoad(c)) },
  { id: "p0_temp", name: "p0 temp", type: "Temperature", units: "Cel", context: "NetworkingDevice", range: [0, 255], thresholds: { UpperCaution: { Reading: 85 }, UpperCritical: { Reading: 95 } }, reading: () => 38 },
  { id: "p1_temp", name: "p1 temp", type: "Temperature", units: "Cel", context: "NetworkingDevice", range: [0, 255], thresholds: { UpperCaution: { Reading: 85 }, UpperCritical: { Reading: 95 } }, reading: () => 37 },
  { id: "12V_PCIe", name: "12V PCIe", type: "Voltage", units: "V", context: "VoltageRegulator", range: [0, 14.4], thresholds: { LowerCaution: { Reading: 10.4 }, UpperCaution: { Reading: 13.6 } }, reading: () => 12.32 },
  { id: "card_power", name: "card power", type: "Power", units: "W", context: "Board", range: [0, 255], thresholds: {}, reading: (c) => round(ratings(c).watts * (0.35 + 0.5 * armLoad(c))) },
];

function sensor(c: RenderContext, spec: SensorSpec): Resource {
  const on = powered(c.sim.docOf(c.serial));
  return {
    "@odata.id": `${chassisUri(c)}/Sensors/${spec.id}`,
    "@odata.type": "#Sensor.v1_7_0.Sensor",
    Id: spec.id,
    Name: spec.name,
    ReadingType: spec.type,
    ReadingUnits: spec.units,
    Reading: on ? spec.reading(c) : null,
    ReadingRangeMin: spec.range[0],
    ReadingRangeMax: spec.range[1],
    PhysicalContext: spec.context,
    Thresholds: spec.thresholds,
    Status: on ? status(true) : { State: "UnavailableOffline", Health: "OK" },
    RelatedItem: [link(`${V1}/Systems/${c.ids.system}`)],
  };
}

/** The rendered chassis with what a BMC adds; `routes.ts` passes it `resources.chassis()`. */
export function withSubsystems(c: RenderContext, chassis: Resource): Resource {
  const uri = chassisUri(c);
  return {
    ...chassis,
    PowerState: powered(c.sim.docOf(c.serial)) ? "On" : "Off",
    PowerSubsystem: link(`${uri}/PowerSubsystem`),
    ThermalSubsystem: link(`${uri}/ThermalSubsystem`),
    Sensors: link(`${uri}/Sensors`),
  };
}

/** The rendered network adapter with its ports, metrics, SKU and settings; `routes.ts` passes it `resources.networkAdapter()`. */
export function withPorts(c: RenderContext, adapter: Resource): Resource {
  const uri = adapterUri(c);
  return {
    ...adapter,
    SKU: c.sim.placement(c.serial).nic.model.toUpperCase(),
    Ports: link(`${uri}/Ports`),
    Metrics: link(`${uri}/Metrics`),
    "@Redfish.Settings": { "@odata.type": "#Settings.v1_4_0.Settings", SettingsObject: link(`${V1}/Systems/${c.ids.system}/Bios/Settings`) },
    Actions: {
      ...((adapter.Actions ?? {}) as Resource),
      "#NetworkAdapter.ResetSettingsToDefault": { target: `${uri}/Actions/NetworkAdapter.ResetSettingsToDefault` },
    },
  };
}

function port(c: RenderContext, id: string): Resource {
  const on = powered(c.sim.docOf(c.serial));
  const speed = ratings(c).portGbps;
  return {
    "@odata.id": `${adapterUri(c)}/Ports/${id}`,
    "@odata.type": "#Port.v1_9_0.Port",
    Id: id,
    Name: `Port ${id}`,
    PortId: id,
    PortProtocol: "Ethernet",
    PortType: "BidirectionalPort",
    LinkNetworkTechnology: "Ethernet",
    LinkStatus: on ? "LinkUp" : "LinkDown",
    LinkState: "Enabled",
    CurrentSpeedGbps: on ? speed : 0,
    MaxSpeedGbps: speed,
    Width: 1,
    Status: on ? status(true) : { State: "StandbyOffline", Health: "OK" },
  };
}

function adapterMetrics(c: RenderContext): Resource {
  return {
    "@odata.id": `${adapterUri(c)}/Metrics`,
    "@odata.type": "#NetworkAdapterMetrics.v1_0_0.NetworkAdapterMetrics",
    Id: "Metrics",
    Name: "Network adapter metrics",
    CPUCorePercent: round(100 * armLoad(c)),
  };
}

/** Factory NIC settings staged for the next DPU restart (what the adapter's ResetSettingsToDefault does on a BlueField: mlxconfig reset). */
function resetSettingsToDefault(c: BmcContext): void {
  const factory = c.sim.placement(c.serial).nic.factoryState;
  c.sim.hardware.patchBiosSettings(c.serial, { mode: factory?.mode ?? "dpu", hostPrivilege: factory?.hostPrivilege ?? "privileged" });
}

const scope = (c: BmcContext): void => requireParam(c, "chassis", c.ids.chassis, "Chassis");
const scopeAdapter = (c: BmcContext): void => {
  scope(c);
  requireParam(c, "adapter", c.ids.adapter, "NetworkAdapter");
};

/** The routes of the chassis's subsystems and sensors and the adapter's ports and metrics. */
export function chassisRoutes(): BmcRoutes {
  const ch = `${V1}/Chassis/{chassis}`;
  const ad = `${ch}/NetworkAdapters/{adapter}`;
  return [
    [`${ch}/Sensors`, { GET: (c) => (scope(c), ok(collection(`${chassisUri(c)}/Sensors`, "SensorCollection", "Sensors", SENSORS.map((s) => `${chassisUri(c)}/Sensors/${s.id}`)))) }],
    [`${ch}/Sensors/{sensor}`, {
      GET: (c) => {
        scope(c);
        const spec = SENSORS.find((s) => s.id === c.params.sensor);
        if (!spec) throw notFound("Sensor", c.params.sensor);
        return ok(sensor(c, spec));
      },
    }],
    [`${ch}/PowerSubsystem`, {
      GET: (c) => {
        scope(c);
        const watts = ratings(c).watts;
        return ok({
          "@odata.id": `${chassisUri(c)}/PowerSubsystem`,
          "@odata.type": "#PowerSubsystem.v1_1_0.PowerSubsystem",
          Id: "PowerSubsystem",
          Name: "Power Subsystem",
          CapacityWatts: watts,
          Allocation: { AllocatedWatts: watts, RequestedWatts: watts },
          Status: status(powered(c.sim.docOf(c.serial))),
        });
      },
    }],
    [`${ch}/ThermalSubsystem`, {
      GET: (c) => {
        scope(c);
        return ok({
          "@odata.id": `${chassisUri(c)}/ThermalSubsystem`,
          "@odata.type": "#ThermalSubsystem.v1_0_0.ThermalSubsystem",
          Id: "ThermalSubsystem",
          Name: "Thermal Subsystem",
          Status: status(powered(c.sim.docOf(c.serial))),
          ThermalMetrics: link(`${chassisUri(c)}/ThermalSubsystem/ThermalMetrics`),
        });
      },
    }],
    [`${ch}/ThermalSubsystem/ThermalMetrics`, {
      GET: (c) => {
        scope(c);
        const temps = SENSORS.filter((s) => s.type === "Temperature").map((s) => {
          const full = sensor(c, s);
          return { DataSourceUri: full["@odata.id"], DeviceName: s.id, PhysicalContext: s.context, Reading: full.Reading };
        });
        return ok({
          "@odata.id": `${chassisUri(c)}/ThermalSubsystem/ThermalMetrics`,
          "@odata.type": "#ThermalMetrics.v1_0_0.ThermalMetrics",
          Id: "ThermalMetrics",
          Name: "Chassis Thermal Metrics",
          TemperatureReadingsCelsius: temps,
        });
      },
    }],
    [`${ad}/Ports`, { GET: (c) => (scopeAdapter(c), ok(collection(`${adapterUri(c)}/Ports`, "PortCollection", "Ports", PORTS.map((p) => `${adapterUri(c)}/Ports/${p}`)))) }],
    [`${ad}/Ports/{port}`, {
      GET: (c) => {
        scopeAdapter(c);
        if (!(PORTS as readonly string[]).includes(c.params.port)) throw notFound("Port", c.params.port);
        return ok(port(c, c.params.port));
      },
    }],
    [`${ad}/Metrics`, { GET: (c) => (scopeAdapter(c), ok(adapterMetrics(c))) }],
    [`${ad}/Actions/NetworkAdapter.ResetSettingsToDefault`, {
      POST: (c) => {
        scopeAdapter(c);
        noParameters(c.body, "NetworkAdapter.ResetSettingsToDefault");
        resetSettingsToDefault(c);
        return done();
      },
    }],
  ];
}
