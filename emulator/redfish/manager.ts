/**
 * The Manager as a DPU's BMC serves it, beyond what `resources.ts` renders: its clock
 * (`DateTime`, `DateTimeLocalOffset`, `LastResetTime`), `Manager.Reset` with its
 * `ResetActionInfo`, the dedicated management NIC (`EthernetInterfaces/eth0`: the port's
 * own address, a MAC derived from the serial, link up while the port answers), the network
 * services (`NetworkProtocol`: HTTPS on the port's TCP port, SSH, NTP, whose servers a PATCH
 * sets with DSP0266's array rules) and the event log
 * (`log-service.ts`). Shapes follow a real BlueField-3 BMC (test/fixtures/redfish-mockups).
 */
import { createHash } from "node:crypto";
import { isIPv6 } from "node:net";
import { ServiceError } from "../service-error";
import { MANAGER_RESET_TYPES, ntpOf } from "../simulation/bmc";
import { actionEnum, actionInfo, collection, link, noContent, ok, onlyWritable, redfishTime, requireParam, status, V1, type BmcContext, type BmcRoutes } from "./bmc-kit";
import { httpsCertificatesUri } from "./certificate-service";
import type { RenderContext, Resource } from "./resources";

function managerUri(c: RenderContext): string {
  return `${V1}/Managers/${c.ids.manager}`;
}

/** The rendered Manager with what a BMC adds; `routes.ts` passes it `resources.manager()`. */
export function withBmc(c: RenderContext, manager: Resource): Resource {
  const uri = managerUri(c);
  return {
    ...manager,
    DateTime: redfishTime(c.sim.clock.now()),
    DateTimeLocalOffset: "+00:00",
    LastResetTime: redfishTime(c.sim.bmc.lastResetTime(c.serial)),
    EthernetInterfaces: link(`${uri}/EthernetInterfaces`),
    NetworkProtocol: link(`${uri}/NetworkProtocol`),
    LogServices: link(`${uri}/LogServices`),
    Actions: {
      ...((manager.Actions ?? {}) as Resource),
      "#Manager.Reset": {
        target: `${uri}/Actions/Manager.Reset`,
        "@Redfish.ActionInfo": `${uri}/ResetActionInfo`,
        "ResetType@Redfish.AllowableValues": [...MANAGER_RESET_TYPES],
      },
    },
  };
}

/** A stable, locally administered unicast MAC for the management NIC of a DPU. */
export function managementMac(serial: string): string {
  const bytes = createHash("sha256").update(`bmc-mac/${serial}`).digest().subarray(0, 6);
  bytes[0] = (bytes[0] & 0xfc) | 0x02;
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(":");
}

/** The IPv6 link-local address a NIC forms from its MAC (modified EUI-64, RFC 4291). */
export function linkLocalFromMac(mac: string): string {
  const b = mac.split(":").map((x) => parseInt(x, 16));
  const eui = [b[0] ^ 0x02, b[1], b[2], 0xff, 0xfe, b[3], b[4], b[5]];
  const groups: string[] = [];
  for (let i = 0; i < 8; i += 2) groups.push(((eui[i] << 8) | eui[i + 1]).toString(16));
  return `fe80::${groups.join(":")}`;
}

/** The BMC's host name: its serial, lower case, as a DNS label. */
function bmcHostName(serial: string): string {
  return `bmc-${serial.toLowerCase().replace(/[^a-z0-9-]/g, "-")}`.slice(0, 63);
}

function ethernetInterface(c: RenderContext): Resource {
  const { nic } = c.sim.placement(c.serial);
  const address = nic.management.address;
  const mac = managementMac(c.serial);
  const v6 = isIPv6(address);
  const ipv6 = [{ Address: linkLocalFromMac(mac), PrefixLength: 64, AddressOrigin: "LinkLocal", AddressState: "Preferred" }];
  if (v6) ipv6.push({ Address: address, PrefixLength: 64, AddressOrigin: "Static", AddressState: "Preferred" });
  const name = bmcHostName(c.serial);
  return {
    "@odata.id": `${managerUri(c)}/EthernetInterfaces/eth0`,
    "@odata.type": "#EthernetInterface.v1_9_0.EthernetInterface",
    Id: "eth0",
    Name: "Manager Ethernet Interface",
    Description: "Dedicated management network interface of the DPU's BMC",
    InterfaceEnabled: true,
    LinkStatus: "LinkUp",
    Status: status(true),
    MACAddress: mac,
    PermanentMACAddress: mac,
    SpeedMbps: 1000,
    FullDuplex: true,
    AutoNeg: true,
    MTUSize: 1500,
    HostName: name,
    FQDN: name,
    DHCPv4: { DHCPEnabled: false, UseDNSServers: false, UseDomainName: false, UseNTPServers: false, UseGateway: false },
    IPv4Addresses: v6 ? [] : [{ Address: address, SubnetMask: "255.255.255.0", AddressOrigin: "Static", Gateway: "0.0.0.0" }],
    IPv4StaticAddresses: v6 ? [] : [{ Address: address, SubnetMask: "255.255.255.0", Gateway: "0.0.0.0" }],
    IPv6Addresses: ipv6,
    IPv6DefaultGateway: "::",
    NameServers: [],
  };
}

function networkProtocol(c: RenderContext): Resource {
  const { nic } = c.sim.placement(c.serial);
  const name = bmcHostName(c.serial);
  const ntp = ntpOf(c.sim.docOf(c.serial));
  return {
    "@odata.id": `${managerUri(c)}/NetworkProtocol`,
    "@odata.type": "#ManagerNetworkProtocol.v1_9_0.ManagerNetworkProtocol",
    Id: "NetworkProtocol",
    Name: "Manager Network Protocol",
    Description: "Network services of the DPU's BMC",
    HostName: name,
    FQDN: name,
    Status: status(true),
    HTTP: { ProtocolEnabled: false, Port: 0 },
    HTTPS: { ProtocolEnabled: true, Port: nic.management.port ?? 8443, Certificates: link(httpsCertificatesUri(c)) },
    SSH: { ProtocolEnabled: true, Port: 22 },
    IPMI: { ProtocolEnabled: false, Port: 623 },
    NTP: { "@Redfish.WriteableProperties": ["ProtocolEnabled", "NTPServers"], ProtocolEnabled: ntp.enabled, NTPServers: [...ntp.servers] },
  };
}

/** PATCH NetworkProtocol: only `NTP` (`ProtocolEnabled`, `NTPServers`) is writable; the port's own services are fixed. */
function patchNetworkProtocol(c: BmcContext): void {
  onlyWritable(c.body, ["NTP"], ["HTTPS", "HTTP", "SSH", "IPMI", "HostName", "FQDN", "Id", "Name", "Status"]);
  const ntp = c.body.NTP;
  if (ntp === undefined) return;
  if (ntp === null || typeof ntp !== "object" || Array.isArray(ntp)) throw new ServiceError(400, "PropertyValueTypeError", [JSON.stringify(ntp), "NTP"], "NTP must be an object");
  const n = ntp as Record<string, unknown>;
  onlyWritable(n, ["NTPServers", "ProtocolEnabled"], [], "NTP");
  c.sim.bmc.patchNtp(c.serial, { enabled: n.ProtocolEnabled, servers: n.NTPServers });
}

const scope = (c: BmcContext): void => requireParam(c, "manager", c.ids.manager, "Manager");

/** The Manager's own routes (its event log's are in `log-service.ts`). */
export function managerRoutes(): BmcRoutes {
  const m = `${V1}/Managers/{manager}`;
  return [
    [`${m}/Actions/Manager.Reset`, {
      POST: (c) => {
        scope(c);
        c.sim.bmc.reset(c.serial, actionEnum(c.body, "Manager.Reset", "ResetType", MANAGER_RESET_TYPES));
        return noContent();
      },
    }],
    [`${m}/ResetActionInfo`, { GET: (c) => (scope(c), ok({ ...actionInfo(`${managerUri(c)}/ResetActionInfo`, "ResetType", MANAGER_RESET_TYPES), Name: "Reset Action Info" })) }],
    [`${m}/EthernetInterfaces`, {
      GET: (c) => (scope(c), ok(collection(`${managerUri(c)}/EthernetInterfaces`, "EthernetInterfaceCollection", "Ethernet Network Interface Collection", [`${managerUri(c)}/EthernetInterfaces/eth0`]))),
    }],
    [`${m}/EthernetInterfaces/{nic}`, {
      GET: (c) => {
        scope(c);
        requireParam(c, "nic", "eth0", "EthernetInterface");
        return ok(ethernetInterface(c));
      },
    }],
    [`${m}/NetworkProtocol`, { GET: (c) => (scope(c), ok(networkProtocol(c))), PATCH: (c) => (scope(c), patchNetworkProtocol(c), ok(networkProtocol(c))) }],
  ];
}
