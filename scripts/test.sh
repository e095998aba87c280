#!/usr/bin/env bash
# The test command (`npm test`): compile, check generated code is fresh, check that imports
# point down the layers (`npm run lint:imports`), then run every vitest tier except
# conformance (`npm run test:conformance`). Runs inside the toolchain
# (scripts/with-toolchain.sh), so the real Pulumi CLI is on PATH for the e2e tier.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
echo "== build (tsc)"
tsc -p tsconfig.json
echo "== generated code is fresh"
node scripts/codegen.js --check
node scripts/vendor-redfish.js --check
echo "== imports point down"
# Layer rules in .dependency-cruiser.cjs; a violation fails the run here.
npm run --silent lint:imports
echo "== vitest"
report=.smartfleet/vitest-report.json
mkdir -p .smartfleet
status=0
vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
# One plain closing line for tools that read test summaries.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`Tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
' "$report" || true
exit "$status"
