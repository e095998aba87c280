/**
 * The switch that hides the `Oem/SmartFleet` tree from reads, so the emulated fleet can
 * stand in for a BMC that implements only the DMTF standard view: GETs of anything under
 * `/redfish/v1/Oem/SmartFleet` answer 404, and every answer (expanded ones included)
 * loses its `Oem.SmartFleet` objects and `#SmartFleet…` OEM actions. Writes to the OEM
 * tree keep working: what the provider cannot do through standard resources it still
 * can, it only reads through them. Set with the admin API (`PUT /admin/v1/oem-view`).
 */

/** Where the OEM tree starts. */
export const OEM_TREE = "/redfish/v1/Oem/SmartFleet";

/** True for the OEM tree's own resources. */
export function isOemPath(pathname: string): boolean {
  return pathname === OEM_TREE || pathname.startsWith(`${OEM_TREE}/`);
}

/** A copy of `value` without `Oem.SmartFleet` objects and SmartFleet OEM actions. */
export function withoutSmartFleet(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutSmartFleet);
  if (!value || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
    if (key === "Oem" && item && typeof item === "object" && !Array.isArray(item)) {
      const rest = Object.fromEntries(Object.entries(item as Record<string, unknown>).filter(([k]) => k !== "SmartFleet" && !k.startsWith("#SmartFleet")));
      if (Object.keys(rest).length > 0) out.Oem = withoutSmartFleet(rest);
      continue;
    }
    out[key] = withoutSmartFleet(item);
  }
  return out;
}
