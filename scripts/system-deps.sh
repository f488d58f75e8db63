#!/usr/bin/env bash
# System packages the tests need, from Debian: a headless Chromium and its driver for the
# browser test. Installs only what is missing; needs root (or sudo).
set -euo pipefail
packages=()
command -v chromium >/dev/null 2>&1 || packages+=(chromium)
command -v chromedriver >/dev/null 2>&1 || packages+=(chromium-driver)
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
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
