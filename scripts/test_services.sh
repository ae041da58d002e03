#!/usr/bin/env bash
# Makes sure the services the test suite starts for itself can be started on this machine:
# the PostgreSQL server binaries (tests/conftest.py runs initdb/pg_ctl on 127.0.0.1 in a temp dir).
# Installs them from Debian's packages when missing; does nothing when they are there.
set -euo pipefail

pg_bin() {
  for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
  done
  return 1
}

if ! pg_bin >/dev/null; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "installing PostgreSQL server binaries (Debian package postgresql)…" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq postgresql >/dev/null
  else
    echo "PostgreSQL server binaries not found and cannot install them (need root + apt-get)." >&2
    echo "Install PostgreSQL >= 13 server binaries, or set CRYPTO_ANALYZER_TEST_PG_BIN." >&2
    exit 1
  fi
fi
echo "PostgreSQL server binaries: $(pg_bin)" >&2

# Chromium for the browser tests (driven by Python playwright; never `playwright install`).
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "installing Debian's chromium…" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium not found and cannot install it (need root + apt-get)." >&2
    exit 1
  fi
fi
echo "Chromium: $(command -v chromium)" >&2
