/**
 * The image server the management ports pull from. It serves, for every URI, the bytes
 * `smartfleet image <uri>\n` — so an inventory's `sha256` is checkable: it must be the
 * SHA-256 of those bytes, and a wrong value makes the install end in `Exception`.
 */
import type { FleetImage } from "../model/inventory";
import { servedSha256 } from "../model/images";

// The bytes and their checksum are computed in model/ (inventory generators need them too).
export { imageBytes, servedSha256 } from "../model/images";

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
