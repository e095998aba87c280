/**
 * What the emulator's image server serves for an image URI, and its SHA-256: the bytes
 * `smartfleet image <uri>\n`. Pure (no server here), so inventory generators can list
 * checksums that verify; `emulator/images.ts` serves and verifies with the same functions.
 */
import { createHash } from "node:crypto";

/** The bytes the image server serves at `uri`. */
export function imageBytes(uri: string): Buffer {
  return Buffer.from(`smartfleet image ${uri}\n`, "utf8");
}

/** SHA-256 (hex) of the bytes served at `uri`: the value an inventory must list. */
export function servedSha256(uri: string): string {
  return createHash("sha256").update(imageBytes(uri)).digest("hex");
}
