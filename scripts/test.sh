#!/usr/bin/env bash
# The test command (`npm test`): compile, check generated code is fresh, then run every
# vitest tier except conformance (`npm run test:conformance`). Runs inside the toolchain
# (scripts/with-toolchain.sh), so the real Pulumi CLI is on PATH for the e2e tier.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
echo "== build (tsc)"
tsc -p tsconfig.json
echo "== generated code is fresh"
node scripts/codegen.js --check
node scripts/vendor-redfish.js --check
echo "== vitest"
exec vitest run "$@"
