#!/usr/bin/env bash
# System packages the tests need, from Debian: a headless Chromium and its driver for the
# browser test, and a PostgreSQL server (the tests initdb and start their own throwaway cluster
# on a free loopback port, see devtools/postgres.py). Installs only what is missing; needs
# root (or sudo).
set -euo pipefail

# A PostgreSQL server is there when Debian's binaries are (/usr/lib/postgresql/<N>/bin, not on
# PATH) or initdb and pg_ctl are on PATH (another packaging).
have_postgres() {
  compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null && return 0
  command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1
}

packages=()
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
command -v chromedriver >/dev/null 2>&1 || packages+=(chromium-driver)
have_postgres || packages+=(postgresql)
[ ${#packages[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo=(sudo -n); else
    echo "system-deps: need root to install ${packages[*]} (apt-get install ${packages[*]})" >&2
    exit 1
  fi
fi
echo "system-deps: installing ${packages[*]}"
"${sudo[@]}" apt-get update -qq

# Debian's postgresql package would create (and start) a system cluster `main` on port 5432. The
# tests never use it, so keep the install from creating it: postgresql-common reads drop-ins from
# createcluster.d. The drop-in only lives for this install, later PostgreSQL installs behave as
# usual. (Where postgresql-common ignores it, the extra cluster is harmless: ours uses its own port.)
no_main=/etc/postgresql-common/createcluster.d/zz-system-deps-no-main-cluster.conf
if [[ " ${packages[*]} " == *" postgresql "* ]] && [ ! -e "$no_main" ]; then
  "${sudo[@]}" mkdir -p "${no_main%/*}"
  echo "create_main_cluster = false" | "${sudo[@]}" tee "$no_main" >/dev/null
  trap '"${sudo[@]}" rm -f "$no_main"' EXIT
fi
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
