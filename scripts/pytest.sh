#!/usr/bin/env bash
# pytest in the project's environment. Exit 5 (no tests collected) is a failure here:
# the suite always has tests, so collecting none means something is broken.
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
"$VENV/bin/python" -m pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest: no tests were collected - treating as a failure" >&2
  exit 1
fi
exit "$rc"
