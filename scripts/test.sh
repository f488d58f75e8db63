#!/usr/bin/env bash
# The test command (make test): everything CI checks, in order, stopping at the first failure.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

step() { echo; echo "==== $* ===="; }
t0=$(date +%s)

step "setup";               bash scripts/setup.sh && bash scripts/system-deps.sh
step "lint (ruff)";         "$VENV/bin/ruff" check bot actions devtools tests scripts benchmarks
                            "$VENV/bin/ruff" format --check bot actions devtools tests scripts benchmarks
step "types (mypy)";        "$VENV/bin/mypy" bot actions devtools
step "rasa data validate";  "$VENV/bin/python" scripts/validate_data.py
step "personas check";      "$VENV/bin/python" -m bot personas check
step "train cue classifier"; "$VENV/bin/python" -m bot personas train-cues
step "personas evaluate";   "$VENV/bin/python" -m bot personas evaluate tests/data/personas_dev.yml --check-targets
                            "$VENV/bin/python" -m bot personas evaluate tests/data/personas_fresh.yml --check-targets=holdout
                            "$VENV/bin/python" -m bot personas evaluate tests/data/personas_unseen2.yml --check-targets=holdout
step "wording check";       "$VENV/bin/python" -m bot wording check | tail -1
step "train (if needed)";   bash scripts/train.sh
step "rasa test stories";   bash scripts/rasa.sh test core --stories tests/test_stories.yml \
                              --model "$MODEL_PATH" --fail-on-prediction-errors --out results/core
step "pytest";              bash scripts/pytest.sh
step "done in $(( $(date +%s) - t0 ))s"
