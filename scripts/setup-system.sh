#!/usr/bin/env bash
# System packages the tests and the catalogue server need, from Debian's registry:
#  - PostgreSQL + PostGIS for the pgstac-backed STAC API server (terra-lab catalog serve)
#  - GDAL's command-line tools (gdaldem) to check the terrain algorithms against GDAL itself
#  - Chromium for the real-browser widget and dashboard tests (Playwright drives /usr/bin/chromium)
# Idempotent: installs only what is missing.  Uses sudo when not root.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "setup-system: not root and no sudo; install Debian's postgresql, postgresql-NN-postgis-3 and chromium yourself" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
updated=0
install() {
  if [ "$updated" -eq 0 ]; then $SUDO apt-get update -qq; updated=1; fi
  echo "setup-system: installing $*"
  $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  install postgresql
  # Debian starts a default cluster; terra_lab runs its own private clusters instead
  $SUDO service postgresql stop >/dev/null 2>&1 || true
fi
PGV=$(ls /usr/lib/postgresql | sort -n | tail -1)
if [ ! -e "/usr/share/postgresql/$PGV/extension/postgis.control" ]; then
  install "postgresql-$PGV-postgis-3"
fi
command -v chromium >/dev/null 2>&1 || install chromium
command -v gdaldem >/dev/null 2>&1 || install gdal-bin
echo "setup-system: postgresql $PGV with postgis, and $(chromium --version 2>/dev/null || echo 'no chromium')"
