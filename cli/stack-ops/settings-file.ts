/**
 * A stack's settings file (`Pulumi.<stack>.yaml`) read directly, for what a command needs
 * to know before it runs anything: each `pulumi config` run costs a Go start and, with
 * `--show-secrets`, a decryption (0.3–0.6 s of CPU), paid before a one-shard preview even
 * starts its engine. Only plain values are answered here; whatever Pulumi could resolve
 * from somewhere else (a secret, an ESC environment, project-level config) is left to it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as YAML from "yaml";

/** What a settings file holds that is read here. */
interface StackSettings {
  config?: Record<string, unknown>;
  environment?: unknown;
}

/** Where the project keeps `Pulumi.<stack>.yaml` (Pulumi.yaml's `stackConfigDir`, else beside it). */
function stackConfigDir(projectDir: string): string {
  try {
    return (YAML.parse(fs.readFileSync(path.join(projectDir, "Pulumi.yaml"), "utf8")) as { stackConfigDir?: string } | null)?.stackConfigDir ?? "";
  } catch {
    return "";
  }
}

/** The settings file of `stackName` (a qualified name's last part) in the project in `projectDir`. */
export function stackSettingsFile(projectDir: string, stackName: string): string {
  return path.join(projectDir, stackConfigDir(projectDir), `Pulumi.${stackName.split("/").pop()}.yaml`);
}

/** The parsed settings file; undefined when it is missing or does not parse. */
export function readStackSettings(projectDir: string, stackName: string): StackSettings | undefined {
  try {
    const doc: unknown = YAML.parse(fs.readFileSync(stackSettingsFile(projectDir, stackName), "utf8"));
    return doc && typeof doc === "object" ? (doc as StackSettings) : {};
  } catch {
    return undefined;
  }
}

/**
 * The plain string value of config `key` as the stack's settings file sets it; undefined
 * when the file cannot answer alone: no file, an ESC environment, or a value that is not a
 * plain string (a secret, an object) or is not set there (project-level config may set it).
 */
export function plainConfigValue(projectDir: string, stackName: string, key: string): string | undefined {
  const settings = readStackSettings(projectDir, stackName);
  if (!settings || settings.environment !== undefined) return undefined;
  const value = settings.config?.[key];
  return typeof value === "string" ? value : undefined;
}
