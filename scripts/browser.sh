#!/usr/bin/env bash
# Prints the path of a Chromium the tests can drive (playwright-core launches it with
# `executablePath`). When none is installed, installs Debian's `chromium` package with
# apt-get (needs root, as bench/lib/ansible.ts does for Ansible) and says so on stderr.
# Idempotent: a second run finds the installed one and installs nothing.
# SMARTFLEET_CHROMIUM=/path/to/chrome overrides the search.
set -euo pipefail

find_browser() {
  if [[ -n "${SMARTFLEET_CHROMIUM:-}" && -x "${SMARTFLEET_CHROMIUM}" ]]; then
    echo "${SMARTFLEET_CHROMIUM}"
    return 0
  fi
  local candidate
  for candidate in chromium chromium-browser; do
    if command -v "$candidate" >/dev/null 2>&1; then
      command -v "$candidate"
      return 0
    fi
  done
  # Debian's wrapper is /usr/bin/chromium; the binary itself lives here.
  if [[ -x /usr/lib/chromium/chromium ]]; then
    echo /usr/lib/chromium/chromium
    return 0
  fi
  return 1
}

if found="$(find_browser)"; then
  echo "$found"
  exit 0
fi

if [[ "$(id -u)" != "0" ]]; then
  echo "scripts/browser.sh: Chromium is missing and installing Debian's chromium package needs root: run 'apt-get install -y chromium' first" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "scripts/browser.sh: Chromium is missing and there is no apt-get to install Debian's chromium package with; set SMARTFLEET_CHROMIUM to a Chromium executable" >&2
  exit 1
fi

echo "scripts/browser.sh: Chromium is missing: installing Debian's chromium package with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update >&2
apt-get install -y --no-install-recommends chromium >&2

if found="$(find_browser)"; then
  echo "$found"
  exit 0
fi
echo "scripts/browser.sh: after installing Debian's chromium package no chromium executable was found" >&2
exit 1
