#!/usr/bin/env bash
# Compiles the emulator benchmark and runs it: bench/emulator/run.sh [--seconds N] [--concurrency C]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
node_ok() { command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 22 ]; }
if ! node_ok; then eval "$("$ROOT/scripts/toolchain.sh" env)"; fi
BUILD="$ROOT/bench/.work/build"
rm -rf "$BUILD"
node "$ROOT/node_modules/typescript/bin/tsc" --outDir "$BUILD" --rootDir "$ROOT" --module commonjs --target ES2022 \
  --moduleResolution node --esModuleInterop --resolveJsonModule --skipLibCheck --strict --types node --lib ES2023 \
  "$ROOT/bench/emulator/run.ts" "$ROOT/cli/main.ts" "$ROOT/cli/commands/emulator.ts"
cp "$ROOT"/schemas/*.schema.json "$BUILD/schemas/"
SMARTFLEET_BENCH_CLI="$BUILD/cli/main.js" exec node "$BUILD/bench/emulator/run.js" "$@"
