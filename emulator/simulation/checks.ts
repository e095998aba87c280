/**
 * Checks of client input shared by the domains; each throws the Redfish error a BMC answers
 * with (missing property, wrong type, not in list, out of range).
 */
import { badValue, missing, notInList, ServiceError } from "../service-error";

/** A non-empty string. */
export function requireString(property: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0) throw value === undefined ? missing(property) : badValue(property, value, "a non-empty string");
  return value;
}

/** A string usable as a resource id in a URI. */
export function requireName(property: string, value: unknown): string {
  const s = requireString(property, value);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(s)) throw new ServiceError(400, "PropertyValueFormatError", [s, property], `${property} must be letters, digits, '.', '_' or '-'`);
  return s;
}

/** An integer of at least `min`. */
export function requireInt(property: string, value: unknown, min: number): number {
  if (typeof value !== "number" || !Number.isInteger(value)) throw value === undefined ? missing(property) : badValue(property, value, "an integer");
  if (value < min) throw new ServiceError(400, "PropertyValueOutOfRange", [String(value), property], `${property} must be at least ${min}`);
  return value;
}

/** A boolean. */
export function requireBoolean(property: string, value: unknown): boolean {
  if (typeof value !== "boolean") throw badValue(property, value, "true or false");
  return value;
}

/** One of `allowed`. */
export function requireEnum<T extends string>(property: string, value: unknown, allowed: readonly T[]): T {
  if (value === undefined) throw missing(property);
  if (typeof value !== "string" || !(allowed as readonly string[]).includes(value)) throw notInList(property, value, allowed);
  return value as T;
}
