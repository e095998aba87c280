#!/usr/bin/env bash
# Prints the directory holding PostgreSQL's server programs (initdb, pg_ctl, postgres,
# psql) that `smartfleet db` runs a local cluster with. When none is installed, installs
# Debian's `postgresql` package with apt-get (needs root, as scripts/browser.sh does for
# Chromium and bench/lib/ansible.ts for Ansible) and says so on stderr. Idempotent: a
# second run finds the installed one and installs nothing.
#   SMARTFLEET_POSTGRES_BINDIR=/path/to/bin   use these programs, search nothing
#   SMARTFLEET_POSTGRES_ROOT=/usr/lib/postgresql   where Debian puts one bin/ per major version
#   SMARTFLEET_APT_GET=apt-get                 the apt-get to install with
set -euo pipefail

root="${SMARTFLEET_POSTGRES_ROOT:-/usr/lib/postgresql}"
apt_get="${SMARTFLEET_APT_GET:-apt-get}"

has_programs() {
  [[ -x "$1/initdb" && -x "$1/pg_ctl" && -x "$1/postgres" && -x "$1/psql" ]]
}

find_bindir() {
  if [[ -n "${SMARTFLEET_POSTGRES_BINDIR:-}" ]]; then
    if has_programs "${SMARTFLEET_POSTGRES_BINDIR}"; then
      echo "${SMARTFLEET_POSTGRES_BINDIR}"
      return 0
    fi
    echo "scripts/postgres.sh: SMARTFLEET_POSTGRES_BINDIR=${SMARTFLEET_POSTGRES_BINDIR} does not hold initdb, pg_ctl, postgres and psql" >&2
    exit 1
  fi
  # Debian installs each major version side by side; the newest wins.
  local dir
  if [[ -d "$root" ]]; then
    for dir in $(ls -1 "$root" 2>/dev/null | sort -rn); do
      if has_programs "$root/$dir/bin"; then
        echo "$root/$dir/bin"
        return 0
      fi
    done
  fi
  return 1
}

if found="$(find_bindir)"; then
  echo "$found"
  exit 0
fi

if [[ "$(id -u)" != "0" ]]; then
  echo "scripts/postgres.sh: PostgreSQL's server programs are missing (none under $root) and installing Debian's postgresql package needs root: run 'apt-get install -y postgresql' first, or set SMARTFLEET_POSTGRES_BINDIR" >&2
  exit 1
fi
if ! command -v "$apt_get" >/dev/null 2>&1; then
  echo "scripts/postgres.sh: PostgreSQL's server programs are missing (none under $root) and there is no $apt_get to install Debian's postgresql package with; install PostgreSQL and set SMARTFLEET_POSTGRES_BINDIR to its bin directory" >&2
  exit 1
fi

echo "scripts/postgres.sh: PostgreSQL is missing: installing Debian's postgresql package with $apt_get" >&2
export DEBIAN_FRONTEND=noninteractive
"$apt_get" update >&2
# The package's own cluster (main, on port 5432) is not wanted: smartfleet runs its own.
mkdir -p /etc/postgresql-common/createcluster.d
echo "create_main_cluster = false" > /etc/postgresql-common/createcluster.d/50-smartfleet-no-main.conf
"$apt_get" install -y --no-install-recommends postgresql >&2

if found="$(find_bindir)"; then
  echo "$found"
  exit 0
fi
echo "scripts/postgres.sh: after installing Debian's postgresql package no initdb/pg_ctl/postgres/psql was found under $root" >&2
exit 1
