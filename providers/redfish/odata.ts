/**
 * Reading loosely typed Redfish JSON. These helpers sit below every other redfish module
 * (sessions and tasks need them and must not import the client), so they live apart.
 */

/** The service root; also where a login starts looking for the SessionService. */
export const SERVICE_ROOT = "/redfish/v1";

/** The `@odata.id` of a link object, or undefined. */
export function linkOf(value: unknown): string | undefined {
  const id = asRecord(value)["@odata.id"];
  return typeof id === "string" && id !== "" ? id : undefined;
}

/** `value` as a plain object, or an empty one (Redfish bodies are loosely typed). */
export function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** The first value of a header Node may have split into several. */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
