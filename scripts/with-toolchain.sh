#!/usr/bin/env bash
# Runs a command inside smartfleet's toolchain environment (see scripts/toolchain.sh):
# Node >= 22 and the Pulumi CLI first on PATH, offline Pulumi settings, local backend.
#   scripts/with-toolchain.sh pulumi stack ls
set -euo pipefail
env_lines=$("$(dirname "${BASH_SOURCE[0]}")/toolchain.sh" env)
eval "$env_lines"
exec "$@"
