/** Every policy rule, in id order. A new rule is added here and nowhere else. */
import type { PolicyRule } from "../rule";
import { acceleratorSingleConsumer } from "./accelerator-single-consumer";
import { blockStorage } from "./block-storage";
import { capacity } from "./capacity";
import { clusterHomogeneity } from "./cluster-homogeneity";
import { dpuMode } from "./dpu-mode";
import { hardwareCompatibility } from "./hardware-compatibility";
import { modeChangeDisruption } from "./mode-change-disruption";
import { noSecrets } from "./no-secrets";
import { rolloutSafety } from "./rollout-safety";
import { securityIsolation } from "./security-isolation";
import { servicePairAntiAffinity } from "./service-pair-anti-affinity";
import { versionLockstep } from "./version-lockstep";

/** All rules, sorted by id. */
export const RULES: readonly PolicyRule[] = [
  hardwareCompatibility,
  capacity,
  servicePairAntiAffinity,
  securityIsolation,
  versionLockstep,
  clusterHomogeneity,
  dpuMode,
  modeChangeDisruption,
  noSecrets,
  acceleratorSingleConsumer,
  rolloutSafety,
  blockStorage,
];
