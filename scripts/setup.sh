#!/usr/bin/env bash
# Idempotent setup: Python 3.10 virtualenv in .venv with the pinned requirements.
# Skips everything that is already done (the requirements are hashed into a stamp file).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

want_version="$(cat .python-version)"
find_python() {
  local candidates=()
  if command -v pyenv >/dev/null 2>&1; then
    candidates+=("$(pyenv root)/versions/$want_version/bin/python")
  fi
  candidates+=("$HOME/.pyenv/versions/$want_version/bin/python" "python${want_version%.*}" python3)
  for c in "${candidates[@]}"; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
      command -v "$c"; return 0
    fi
  done
  echo "setup: Python 3.10 not found (wanted $want_version; install it with 'pyenv install $want_version')" >&2
  return 1
}

if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
  python="$(find_python)"
  echo "setup: creating virtualenv with $python"
  rm -rf "$VENV"
  "$python" -m venv "$VENV"
fi

stamp="$VENV/.requirements.sha256"
want="$(cat requirements.txt | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "setup: installing pinned requirements (the first time takes a few minutes)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "pip==24.2"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements.txt
  echo "$want" > "$stamp"
fi
mkdir -p "$VAR_DIR"
