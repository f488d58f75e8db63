#!/usr/bin/env bash
# Run a rasa command in the project's environment.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"
exec "$VENV/bin/python" -m bot.rasa "$@"
