/** Loads the policy reference data from `policies/data/` (validated like any input file). */
import * as path from "node:path";
import { sourcePath } from "../schemas/paths";
import type { HardwareCompatibility } from "../schemas/generated/hardware-compatibility";
import { schemaPath } from "../schemas/validate";
import { loadValidatedYaml } from "../schemas/validated-yaml";
import type { PolicyData } from "./rule";

/** The directory of the data files (also when running from `dist/`). */
export const POLICY_DATA_DIR = sourcePath("policies", "data");

let cached: PolicyData | undefined;

/** The reference data, read once per process. */
export function loadPolicyData(dir: string = POLICY_DATA_DIR): PolicyData {
  if (cached && dir === POLICY_DATA_DIR) return cached;
  const hardware = loadValidatedYaml<HardwareCompatibility>(path.join(dir, "hardware-compatibility.yaml"), schemaPath("hardware-compatibility"));
  const data = { hardware };
  if (dir === POLICY_DATA_DIR) cached = data;
  return data;
}
