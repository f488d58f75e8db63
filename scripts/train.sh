#!/usr/bin/env bash
# Train the model only when the data, domain, config or pinned requirements changed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

# The learned cue classifier (cue_corpus/ → models/cues/classifier/); skipped when the
# corpus is unchanged. The Rasa model does not contain it: the cue component reads it.
"$VENV/bin/python" -m bot personas train-cues

# What the trained model depends on. The persona component is not trainable (it reads
# personas.yml when the model loads) and the wording catalogue is read by the NLG at run
# time, so neither is part of the fingerprint.
fingerprint="$( { find config.yml domain.yml data -path data/wording -prune -o -type f -name '*.yml' -print \
  | LC_ALL=C sort | xargs sha256sum; cat requirements.txt; } | sha256sum | cut -d' ' -f1)"
stamp="$ROOT/models/.fingerprint"
if [ -f "$MODEL_PATH" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$fingerprint" ]; then
  echo "train: model is up to date ($MODEL_PATH)"
  exit 0
fi
echo "train: training $MODEL_PATH"
mkdir -p "$(dirname "$MODEL_PATH")"
start=$(date +%s)
"$VENV/bin/rasa" train --config config.yml --domain domain.yml --data data \
  --out "$(dirname "$MODEL_PATH")" --fixed-model-name "$(basename "$MODEL_PATH" .tar.gz)" --force
echo "train: done in $(( $(date +%s) - start ))s, $(du -h "$MODEL_PATH" | cut -f1)"
echo "$fingerprint" > "$stamp"
