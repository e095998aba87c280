/**
 * What an interrupted rollout left in a stack's rollout store (`providers/rollout`): hosts
 * another run left in maintenance, which count against their group's budget until a run
 * disrupts them again and takes them out. When no run will (the host left the stack, or an
 * operator repaired it and brought it back by hand), the group would wait for it forever:
 * `smartfleet recover --release-maintenance HOST` forgets the record.
 *
 * The store is the stack *file*'s (`metadata.name`, shared by its shard stacks): found
 * through the Pulumi stack's `smartfleet:stackFile` setting in `<stackConfigDir>/Pulumi.<stack>.yaml`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";
import { closeRolloutStores, currentRun, runningRuns, storeFor } from "../providers/rollout/run";
import type { MaintenanceRecord } from "../providers/rollout/store";

/** What recover found in the rollout store. */
export interface RolloutLeftovers {
  /** The store's name (the stack file's `metadata.name`). */
  rollout: string;
  /** Hosts in maintenance that no running update holds. */
  maintenance: MaintenanceRecord[];
  /** Hosts whose record was forgotten on request. */
  released: string[];
  /** Hosts asked to be released that had no record. */
  unknown: string[];
}

/**
 * The rollout store's leftovers of `stack` in the project at `projectDir`; undefined when
 * the stack file cannot be found. `name`: the store's name when the caller knows it.
 */
export async function rolloutLeftovers(projectDir: string, stack: string, release: readonly string[], name?: string): Promise<RolloutLeftovers | undefined> {
  const rollout = name ?? rolloutName(projectDir, stack);
  if (rollout === undefined) return undefined;
  const store = storeFor(rollout, projectDir);
  try {
    const live = await runningRuns(store);
    const records = (await store.maintenance()).filter((m) => !live.has(m.run) && m.run !== currentRun());
    const released: string[] = [];
    for (const host of release) {
      if (!records.some((m) => m.host === host)) continue;
      await store.markMaintenance(host, undefined);
      released.push(host);
    }
    return {
      rollout,
      maintenance: records.filter((m) => !released.includes(m.host)),
      released,
      unknown: release.filter((h) => !released.includes(h)),
    };
  } finally {
    closeRolloutStores();
  }
}

/** The `metadata.name` of the stack file the Pulumi stack runs. */
function rolloutName(projectDir: string, stack: string): string | undefined {
  const project = YAML.parse(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8")) as { stackConfigDir?: string };
  const settingsFile = path.join(projectDir, project.stackConfigDir ?? ".", `Pulumi.${stack}.yaml`);
  const settings = fs.existsSync(settingsFile) ? (YAML.parse(fs.readFileSync(settingsFile, "utf8")) as { config?: Record<string, unknown> } | null) : null;
  const configured = settings?.config?.["smartfleet:stackFile"];
  const stackFile = path.resolve(projectDir, typeof configured === "string" ? configured : path.join("stacks", `${stack.split(".")[0]}.yaml`));
  if (!fs.existsSync(stackFile)) return undefined;
  const name = (YAML.parse(fs.readFileSync(stackFile, "utf8")) as { metadata?: { name?: unknown } } | null)?.metadata?.name;
  return typeof name === "string" ? name : undefined;
}
