/**
 * What both systems of a port (the DPU's Arm system and its host) add to `ComputerSystem`
 * as a real BMC serves it: `Boot` with its override properties and their allowable values,
 * `BootProgress`, `BootOptions`, `LastResetTime`, and the reset action described by a
 * `ResetActionInfo` with the reset types each system takes (the DPU's those of a BlueField-3
 * BMC). A reset that finds the system already where it would leave it (`On` of a running
 * system) is done: 200 with the Base `Success` message, no task.
 */
import type { BootOverrideState, TaskRecord } from "../model";
import { notFound, ServiceError } from "../service-error";
import { BOOT_ALLOWABLE, DPU_RESET_TYPES, HOST_RESET_TYPES } from "../simulation/hardware";
import { actionEnum, actionInfo, collection, done, link, ok, onlyWritable, redfishTime, V1, type BmcContext, type BmcReply, type BmcRoutes } from "./bmc-kit";
import type { RenderContext, Resource } from "./resources";

type Which = "dpu" | "host";

/** Which system a `{system}` path parameter names (404 otherwise). */
export function systemOf(c: BmcContext): Which {
  if (c.params.system === c.ids.system) return "dpu";
  if (c.params.system === "Host") return "host";
  throw notFound("ComputerSystem", c.params.system);
}

function systemUri(c: RenderContext, which: Which): string {
  return `${V1}/Systems/${which === "dpu" ? c.ids.system : "Host"}`;
}

function overrideOf(c: RenderContext, which: Which): BootOverrideState {
  const d = c.sim.docOf(c.serial);
  return (which === "dpu" ? d.dpu.bootOverride : d.host.bootOverride) ?? { enabled: "Disabled", target: "None" };
}

/** A boot option of a system: its id, what it boots, and the device path UEFI knows it by. */
interface BootOptionSpec {
  id: string;
  name: string;
  target: string;
  path: string;
}

/** The boot options a system has now: its OS disk when one is installed, the virtual CD (host) when media is in, and network boot. */
function bootOptions(c: RenderContext, which: Which): BootOptionSpec[] {
  const d = c.sim.docOf(c.serial);
  const options: BootOptionSpec[] = [];
  if (which === "dpu") {
    if (d.dpuOs.image) options.push({ id: "Boot0000", name: `${d.dpuOs.image} ${d.dpuOs.version ?? ""}`.trim(), target: "Hdd", path: "VenHw(F019E406-8C9C-11E5-8797-001ACA00BFC4)/eMMC(0x0)" });
    options.push({ id: "Boot0001", name: "UEFI PXEv4 (OOB interface)", target: "Pxe", path: "MAC(000000000000,0x1)/IPv4(0.0.0.0)" });
  } else {
    if (d.host.os) options.push({ id: "Boot0000", name: `${d.host.os.image} ${d.host.os.version}`, target: "Hdd", path: "PciRoot(0x0)/Pci(0x1,0x0)/NVMe(0x1,00-00-00-00-00-00-00-00)" });
    if (d.virtualMedia.inserted) options.push({ id: "Boot0001", name: "Virtual CD", target: "Cd", path: "PciRoot(0x0)/Pci(0x14,0x0)/USB(0x2,0x0)/CDROM(0x0)" });
    options.push({ id: "Boot0002", name: "UEFI PXEv4", target: "Pxe", path: "PciRoot(0x0)/Pci(0x2,0x0)/MAC(000000000000,0x1)/IPv4(0.0.0.0)" });
  }
  return options;
}

/** A task that resets a system: for the DPU also an OS or NIC firmware install (the card restarts into it). */
function isReset(t: TaskRecord, which: Which): boolean {
  return which === "dpu" ? t.kind.type === "dpu-reset" || (t.kind.type === "firmware-update" && t.kind.target !== "bmc") : t.kind.type === "host-reset";
}

/** The newest reset task of a system and the newest that ended: what `BootProgress` and `LastResetTime` come from (one backward pass: a GET renders this). */
function lastResets(c: RenderContext, which: Which): { latest?: TaskRecord; ended?: TaskRecord } {
  const tasks = c.sim.tasksOf(c.serial);
  let latest: TaskRecord | undefined;
  for (let i = tasks.length - 1; i >= 0; i--) {
    const t = tasks[i];
    if (!isReset(t, which)) continue;
    latest ??= t;
    if (t.endTime !== null) return { latest, ended: t };
  }
  return { latest };
}

/** Where a system's boot is: off, booting (a reset runs), at its OS, or up with no OS to boot. */
function bootProgress(c: RenderContext, which: Which, last: TaskRecord | undefined): Resource {
  const d = c.sim.docOf(c.serial);
  const running = last !== undefined && (last.state === "Running" || last.state === "New");
  const on = which === "dpu" ? d.dpu.powerState === "On" && !d.dpu.crashed : d.host.powerState === "On";
  const hasOs = which === "dpu" ? d.dpuOs.state === "Enabled" : d.host.os !== null;
  const state = running ? "OSBootStarted" : !on ? "None" : hasOs ? "OSRunning" : "SystemHardwareInitializationComplete";
  const progress: Resource = { LastState: state };
  const since = running ? last.startTime : last?.endTime;
  if (since !== undefined && since !== null) progress.LastStateTime = redfishTime(since);
  return progress;
}

/** The properties a system gains here; `routes.ts` merges them into the rendered system. */
export function withBoot(c: RenderContext, which: Which, system: Resource): Resource {
  const uri = systemUri(c, which);
  const o = overrideOf(c, which);
  const allowed = BOOT_ALLOWABLE[which];
  const options = bootOptions(c, which);
  const { latest, ended } = lastResets(c, which);
  const body: Resource = {
    ...system,
    Boot: {
      "@Redfish.WriteableProperties": ["BootSourceOverrideEnabled", "BootSourceOverrideTarget", "BootSourceOverrideMode"],
      BootSourceOverrideEnabled: o.enabled,
      "BootSourceOverrideEnabled@Redfish.AllowableValues": [...allowed.enabled],
      BootSourceOverrideTarget: o.target,
      "BootSourceOverrideTarget@Redfish.AllowableValues": [...allowed.target],
      BootSourceOverrideMode: o.mode ?? "UEFI",
      "BootSourceOverrideMode@Redfish.AllowableValues": [...allowed.mode],
      BootOrder: options.map((b) => b.id),
      BootOptions: link(`${uri}/BootOptions`),
    },
    BootProgress: bootProgress(c, which, latest),
  };
  if (ended?.endTime) body.LastResetTime = redfishTime(ended.endTime);
  const actions = (system.Actions ?? {}) as Resource;
  body.Actions = {
    ...actions,
    "#ComputerSystem.Reset": {
      target: `${uri}/Actions/ComputerSystem.Reset`,
      "@Redfish.ActionInfo": `${uri}/ResetActionInfo`,
      "ResetType@Redfish.AllowableValues": [...resetTypes(which)],
    },
  };
  return body;
}

function resetTypes(which: Which): readonly string[] {
  return which === "dpu" ? DPU_RESET_TYPES : HOST_RESET_TYPES;
}

/** PATCH of `Boot` on either system (the route has already allowed only `Boot` at the top). */
export function patchBoot(c: BmcContext, which: Which): void {
  const boot = c.body.Boot;
  if (boot === undefined) return;
  if (boot === null || typeof boot !== "object" || Array.isArray(boot)) {
    throw new ServiceError(400, "PropertyValueTypeError", [JSON.stringify(boot), "Boot"], "Boot must be an object");
  }
  const b = boot as Record<string, unknown>;
  onlyWritable(b, ["BootSourceOverrideEnabled", "BootSourceOverrideTarget", "BootSourceOverrideMode"], ["BootOrder", "BootOptions"], "Boot");
  c.sim.hardware.setBootOverride(c.serial, which, { enabled: b.BootSourceOverrideEnabled, target: b.BootSourceOverrideTarget, mode: b.BootSourceOverrideMode });
}

/** POST ComputerSystem.Reset on either system: 202 with a task, or 200 Success when already done. */
export function resetSystem(c: BmcContext, accepted: (t: TaskRecord) => BmcReply): BmcReply {
  const which = systemOf(c);
  const resetType = actionEnum(c.body, "ComputerSystem.Reset", "ResetType", resetTypes(which));
  const task = which === "dpu" ? c.sim.hardware.resetDpu(c.serial, resetType) : c.sim.hardware.resetHost(c.serial, resetType);
  return task ? accepted(task) : done();
}

function bootOption(c: BmcContext, which: Which, spec: BootOptionSpec): Resource {
  return {
    "@odata.id": `${systemUri(c, which)}/BootOptions/${spec.id}`,
    "@odata.type": "#BootOption.v1_0_4.BootOption",
    Id: spec.id,
    Name: spec.name,
    DisplayName: spec.name,
    BootOptionReference: spec.id,
    BootOptionEnabled: true,
    UefiDevicePath: spec.path,
    Alias: spec.target,
  };
}

/** The routes of boot options and the reset action info of both systems. */
export function systemBootRoutes(): BmcRoutes {
  return [
    [`${V1}/Systems/{system}/BootOptions`, {
      GET: (c) => {
        const which = systemOf(c);
        const uri = `${systemUri(c, which)}/BootOptions`;
        return ok(collection(uri, "BootOptionCollection", "Boot Options", bootOptions(c, which).map((b) => `${uri}/${b.id}`)));
      },
    }],
    [`${V1}/Systems/{system}/BootOptions/{option}`, {
      GET: (c) => {
        const which = systemOf(c);
        const spec = bootOptions(c, which).find((b) => b.id === c.params.option);
        if (!spec) throw notFound("BootOption", c.params.option);
        return ok(bootOption(c, which, spec));
      },
    }],
    [`${V1}/Systems/{system}/ResetActionInfo`, {
      GET: (c) => {
        const which = systemOf(c);
        return ok({ ...actionInfo(`${systemUri(c, which)}/ResetActionInfo`, "ResetType", resetTypes(which)), Name: "Reset Action Info" });
      },
    }],
  ];
}
