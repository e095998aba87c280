/**
 * Settings the providers need at run time that are the same for every resource: the CA
 * that signs the management ports' certificates and the time budgets. They come from the
 * stack configuration, which Pulumi hands to each provider's `configure` in the provider
 * process. Nothing here is ever returned in resource outputs, so it never reaches state;
 * the management password is not a setting: it travels as a secret resource input.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import type * as pulumi from "@pulumi/pulumi";
import { watchEngine } from "./engine-watch";

/** What every provider call uses. */
export interface ProviderSettings {
  /** PEM of the CA the management ports' certificates must chain to. */
  caPem: string;
  /** Longest wait for one HTTP request, in ms. */
  callTimeoutMs: number;
  /** Longest wait for one whole operation (an install, a reboot, a power cycle), in ms. */
  operationTimeoutMs: number;
  /** How often a retryable request failure is retried (the client's default when absent). */
  retries?: number;
}

/** Defaults for the time budgets; `customTimeouts` never reach dynamic providers, so these are the limits. */
export const DEFAULT_TIMEOUTS = { callTimeoutMs: 30_000, operationTimeoutMs: 30 * 60_000 } as const;

let current: ProviderSettings | undefined;

/** Installs the settings directly (tests, and programs that drive providers without Pulumi). */
export function setProviderSettings(settings: ProviderSettings): void {
  current = settings;
}

/** The settings in force; fails with a clear message when no `configure` ran. */
export function providerSettings(): ProviderSettings {
  if (!current) {
    throw new Error(
      "smartfleet provider settings are missing: set smartfleet:caFile (or smartfleet:endpoints) in the stack configuration",
    );
  }
  return current;
}

/**
 * Reads the settings from the stack configuration: `smartfleet:caFile`, or else the
 * `caFile` named in the `smartfleet:endpoints` file; optional
 * `smartfleet:callTimeoutSeconds` and `smartfleet:operationTimeoutSeconds`. Relative paths
 * are relative to the project root (the nearest directory with a Pulumi.yaml above the
 * working directory: Pulumi runs the provider in the program's folder, `dist/stacks`).
 */
export function settingsFromConfig(config: pulumi.dynamic.Config): ProviderSettings {
  const caFile = config.get("smartfleet:caFile") ?? caFileFromEndpoints(config.get("smartfleet:endpoints"));
  if (!caFile) {
    throw new Error("smartfleet: set smartfleet:caFile or smartfleet:endpoints in the stack configuration");
  }
  return {
    caPem: readText(caFile, "smartfleet:caFile"),
    callTimeoutMs: seconds(config, "smartfleet:callTimeoutSeconds") ?? DEFAULT_TIMEOUTS.callTimeoutMs,
    operationTimeoutMs: seconds(config, "smartfleet:operationTimeoutSeconds") ?? DEFAULT_TIMEOUTS.operationTimeoutMs,
  };
}

/**
 * `configure` of every kind: reads the stack configuration once per provider process, and
 * makes the process end when the engine that started it is gone (`engine-watch.ts`).
 */
export async function configureFromPulumi(request: pulumi.dynamic.ConfigureRequest): Promise<void> {
  watchEngine();
  setProviderSettings(settingsFromConfig(request.config));
}

function caFileFromEndpoints(endpointsFile: string | undefined): string | undefined {
  if (!endpointsFile) return undefined;
  const parsed = JSON.parse(readText(endpointsFile, "smartfleet:endpoints")) as { caFile?: unknown };
  if (typeof parsed.caFile !== "string") {
    throw new Error(`smartfleet: ${endpointsFile} (smartfleet:endpoints) names no caFile`);
  }
  return path.resolve(path.dirname(path.resolve(projectRoot(), endpointsFile)), parsed.caFile);
}

/** The nearest directory at or above the working directory holding Pulumi.yaml (else the working directory). */
export function projectRoot(start: string = process.cwd()): string {
  for (let dir = start, parent = ""; dir !== parent; parent = dir, dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
  }
  return start;
}

function readText(file: string, key: string): string {
  try {
    return fs.readFileSync(path.resolve(projectRoot(), file), "utf8");
  } catch (cause) {
    throw new Error(`smartfleet: cannot read ${file} (${key}): ${(cause as Error).message}`, { cause });
  }
}

function seconds(config: pulumi.dynamic.Config, key: string): number | undefined {
  const raw = config.get(key);
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`smartfleet: ${key} must be a positive number of seconds, got ${raw}`);
  return value * 1000;
}
