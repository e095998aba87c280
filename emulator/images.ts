/**
 * The image server the management ports pull from. It serves, for every URI, the bytes
 * `smartfleet image <uri>\n` — so an inventory's `sha256` is checkable: it must be the
 * SHA-256 of those bytes, and a wrong value makes the install end in `Exception`.
 */
import { createHash } from "node:crypto";
import type { FleetImage } from "../model/inventory";

/** The bytes the image server serves at `uri`. */
export function imageBytes(uri: string): Buffer {
  return Buffer.from(`smartfleet image ${uri}\n`, "utf8");
}

/** SHA-256 (hex) of the bytes served at `uri`: the value an inventory must list. */
export function servedSha256(uri: string): string {
  return createHash("sha256").update(imageBytes(uri)).digest("hex");
}

/** Why pulling `uri` from the catalog would fail, or null when it verifies. */
export function verifyImage(catalog: FleetImage[], uri: string): { image: FleetImage | null; error: string | null } {
  const image = catalog.find((i) => i.uri === uri) ?? null;
  if (!image) return { image: null, error: `image '${uri}' is not offered by the image server (not in the inventory's image catalog)` };
  const actual = servedSha256(uri);
  if (actual !== image.sha256) {
    return { image, error: `checksum mismatch for '${uri}': expected sha256 ${image.sha256}, pulled bytes have ${actual}` };
  }
  return { image, error: null };
}
