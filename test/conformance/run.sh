#!/usr/bin/env bash
# Conformance tier: runs DMTF's Redfish Service Validator, Redfish Protocol Validator and
# Redfish Interop Validator (with our profile, profiles/SmartFleetDpuBmc.v1_0_0.json),
# offline, against an emulated NVIDIA, AMD and Intel DPU port, every request verifying the
# emulator's CA, fails on any failure, and writes a summary to test/conformance/RESULTS.md.
#   test/conformance/run.sh            (npm run test:conformance)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/test/conformance"
TOOLCHAIN=${SMARTFLEET_TOOLCHAIN_DIR:-$HOME/.cache/smartfleet/toolchain}
VENV="$TOOLCHAIN/py"
WORK="$HERE/.work"
SERVICE_VALIDATOR_VERSION=3.1.8
PROTOCOL_VALIDATOR_VERSION=1.3.2
INTEROP_VALIDATOR_VERSION=3.0.4
PROFILE="$HERE/profiles/SmartFleetDpuBmc.v1_0_0.json"
PASSWORD='Conformance-pass-1'

node_ok() { command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 22 ]; }
if ! node_ok; then eval "$("$ROOT/scripts/toolchain.sh" env)"; fi

log() { echo "conformance: $*" >&2; }

# 1. The validators, pinned, in a venv in the toolchain cache.
if ! "$VENV/bin/python" -c "import sys" 2>/dev/null; then
  log "creating $VENV"
  python3 -m venv "$VENV"
fi
have_version() { "$VENV/bin/pip" show "$1" 2>/dev/null | grep -qx "Version: $2"; }
if ! have_version redfish_service_validator "$SERVICE_VALIDATOR_VERSION" || ! have_version redfish_protocol_validator "$PROTOCOL_VALIDATOR_VERSION" \
  || ! have_version redfish_interop_validator "$INTEROP_VALIDATOR_VERSION"; then
  log "installing the DMTF validators"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "redfish-service-validator==$SERVICE_VALIDATOR_VERSION" "redfish-protocol-validator==$PROTOCOL_VALIDATOR_VERSION" \
    "redfish-interop-validator==$INTEROP_VALIDATOR_VERSION"
fi

# 2. A flat schema folder: the DMTF CSDL $metadata references, transitively (vendored in
#    test/conformance/schemas by scripts/vendor-redfish.js), and our OEM CSDL.
rm -rf "$WORK"
mkdir -p "$WORK/schemas" "$WORK/state" "$WORK/logs"
cp "$HERE"/schemas/*.xml "$WORK/schemas/"
cp "$ROOT/emulator/schema/SmartFleet_v1.xml" "$WORK/schemas/"

# 3. The emulator, compiled as the smartfleet command runs it, started in the background.
log "compiling the emulator"
node "$ROOT/node_modules/typescript/bin/tsc" --outDir "$WORK/build" --rootDir "$ROOT" --module commonjs --target ES2022 \
  --moduleResolution node --esModuleInterop --resolveJsonModule --skipLibCheck --strict --types node --lib ES2023 \
  "$ROOT/cli/main.ts" "$ROOT/cli/commands/emulator.ts"
cp "$ROOT"/schemas/*.schema.json "$WORK/build/schemas/"
SMARTFLEET=(node "$WORK/build/cli/main.js")
cleanup() { "${SMARTFLEET[@]}" emulator stop --state "$WORK/state" >/dev/null 2>&1 || true; }
trap cleanup EXIT
"${SMARTFLEET[@]}" emulator start --inventory "$HERE/fleet.yaml" --state "$WORK/state" --time-scale 0 --detach >&2
CA="$WORK/state/ca.pem"

# 4. Claim each port (rotate the factory password) so the validators log in normally.
claim() { # url user factory-password
  curl -fsS --cacert "$CA" -u "$2:$3" -X PATCH -H 'Content-Type: application/json' \
    -d "{\"Password\":\"$PASSWORD\"}" "$1/redfish/v1/AccountService/Accounts/$2" >/dev/null
}
claim https://127.77.0.1:8443 root '0penBmc'
claim https://127.77.0.2:8443 admin 'Pen$ando1'
claim https://127.77.0.3:8443 admin '1ntelIpu'

# 4b. Give each port a DPU OS, a storage service and one device of each block and network
#     kind, so the standard view (OperatingSystem, Applications, NetworkDeviceFunctions,
#     Volumes, host PCIeFunctions) is validated with members, not as empty collections.
populate() { # url user
  local body
  for body in '/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate {"ImageURI":"http://images.lab/esxi-arm-8.0.3.bfb"}' \
    '/redfish/v1/Oem/SmartFleet/Services {"Id":"vsan","ServiceType":"vsan-storage","Version":"8.0.3","Cores":2,"MemoryGiB":4,"StorageGiB":100}' \
    '/redfish/v1/Oem/SmartFleet/HostDevices {"Id":"vnic0","Kind":"vnic","Function":"vf"}' \
    '/redfish/v1/Oem/SmartFleet/HostDevices {"Id":"disk0","Kind":"nvme","Function":"pf","SizeGiB":64,"BackingService":"vsan"}' \
    '/redfish/v1/Oem/SmartFleet/HostDevices {"Id":"blk0","Kind":"virtio-blk","Function":"vf","SizeGiB":8,"BackingService":"vsan"}'; do
    curl -fsS --cacert "$CA" -u "$2:$PASSWORD" -X POST -H 'Content-Type: application/json' -d "${body#* }" "$1${body%% *}" >/dev/null
  done
}
populate https://127.77.0.1:8443 root
populate https://127.77.0.2:8443 admin
populate https://127.77.0.3:8443 admin

# 5. The three validators against each port. The service and interop validators pass their
#    client no CA (verify=False whatever the environment says): verified.py hands it ours and
#    makes any unverified request an error.
status=0
summary_rows=()
run_port() { # name url user
  local name=$1 url=$2 user=$3 out="$WORK/logs/$1"
  mkdir -p "$out/service" "$out/protocol" "$out/interop"
  log "service validator: $name ($url)"
  (cd "$out/service" && "$VENV/bin/python" "$HERE/verified.py" "$CA" service --ip "$url" -u "$user" -p "$PASSWORD" --authtype Session \
      --schema_directory "$WORK/schemas" --skipschema --logdir "$out/service" >"$out/service/stdout.txt" 2>&1) || true
  log "protocol validator: $name ($url)"
  (cd "$out/protocol" && REQUESTS_CA_BUNDLE="$CA" CURL_CA_BUNDLE="$CA" "$VENV/bin/rf_protocol_validator" -r "$url" -u "$user" -p "$PASSWORD" --ca-bundle "$CA" \
      --avoid-http-redirect --report-dir "$out/protocol" --report-type both >"$out/protocol/stdout.txt" 2>&1) || true
  log "interop validator: $name ($url)"
  (cd "$out/interop" && "$VENV/bin/python" "$HERE/verified.py" "$CA" interop --ip "$url" -u "$user" -p "$PASSWORD" --authtype Session \
      --logdir "$out/interop" "$PROFILE" >"$out/interop/stdout.txt" 2>&1) || true
  local row
  row=$("$VENV/bin/python" "$HERE/summarize.py" "$name" "$out") || status=1
  summary_rows+=("$row")
}
run_port nvidia https://127.77.0.1:8443 root
run_port amd https://127.77.0.2:8443 admin
run_port intel https://127.77.0.3:8443 admin

{
  echo "# Conformance results"
  echo
  echo "DMTF Redfish Service Validator $SERVICE_VALIDATOR_VERSION, Redfish Protocol Validator $PROTOCOL_VALIDATOR_VERSION and"
  echo "Redfish Interop Validator $INTEROP_VALIDATOR_VERSION with \`test/conformance/profiles/$(basename "$PROFILE")\`,"
  echo "offline (the DSP8010 2025.4 CSDL in \`test/conformance/schemas\` + \`emulator/schema/SmartFleet_v1.xml\`), against"
  echo "one emulated port per vendor (\`test/conformance/fleet.yaml\`), every request verifying the emulator's CA."
  echo "Written by \`test/conformance/run.sh\`."
  echo
  echo "| port | service validator | protocol validator | interop validator |"
  echo "|---|---|---|---|"
  printf '%s\n' "${summary_rows[@]}"
  echo
  echo "## Warnings"
  echo
  for name in nvidia amd intel; do
    grep -h "WARNING - WARN" "$WORK/logs/$name"/service/*/RedfishServiceValidatorDebug_*.log 2>/dev/null \
      | sed -E "s/^.* - WARN - /- $name: /" | sort -u || true
    grep -h " - WARN - " "$WORK/logs/$name"/interop/*/RedfishInteropValidatorDebug_*.log 2>/dev/null \
      | sed -E "s/^.* - WARN - /- $name (interop): /" | sort -u || true
  done
  echo
  echo "Run on $(date -u +%Y-%m-%d) with Node $(node -v), Python $("$VENV/bin/python" -c 'import platform; print(platform.python_version())')."
} >"$HERE/RESULTS.md"
cat "$HERE/RESULTS.md"
# One plain closing line for tools that read test summaries: validator checks across ports.
grep -E '^\| (nvidia|amd|intel) \|' "$HERE/RESULTS.md" | grep -oE '[0-9]+ (pass|fail)' |
  awk '$2 == "pass" { p += $1 } $2 == "fail" { f += $1 } END { printf "Conformance: %d passed, %d failed\n", p, f }'
if [ "$status" -ne 0 ]; then log "FAILED: see $WORK/logs"; fi
exit "$status"
