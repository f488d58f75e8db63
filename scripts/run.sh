#!/usr/bin/env bash
# The main command: set up, train if needed, then start the action server, Rasa and the
# web chat on loopback. Ctrl-C stops everything this script started.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$ROOT"

bash scripts/setup.sh
# Refuse to start with an invalid persona catalogue (the error names file, persona, field).
"$VENV/bin/python" -m bot personas check
bash scripts/train.sh
mkdir -p "$VAR_DIR/log"
# The plugin's database: migrations, handoffs spooled while it was unavailable, and the
# demo customers (SEED_FILE= to skip them; the seed is idempotent).
"$VENV/bin/python" -m bot db prepare
seed_file="${SEED_FILE-demo/customers.yml}"
[ -n "$seed_file" ] && "$VENV/bin/python" -m bot db seed "$seed_file"

pids=()
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "run: stopping..."
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "run: stopped"
}
trap cleanup EXIT
trap 'cleanup; exit 0' INT TERM

"$VENV/bin/python" -m actions --port "$ACTION_PORT" >"$VAR_DIR/log/actions.log" 2>&1 &
pids+=($!)

rasa_args=(run --model "$MODEL_PATH" --endpoints endpoints.yml --credentials credentials.yml
  --interface "$RASA_HOST" --port "$RASA_PORT" --enable-api --auth-token "$RASA_AUTH_TOKEN"
  --cors "http://127.0.0.1:$WEB_PORT")
"$VENV/bin/python" -m bot.rasa "${rasa_args[@]}" >"$VAR_DIR/log/rasa.log" 2>&1 &
pids+=($!)

"$VENV/bin/python" -m bot webchat --host 127.0.0.1 --port "$WEB_PORT" \
  --rasa-url "http://$RASA_HOST:$RASA_PORT" >"$VAR_DIR/log/webchat.log" 2>&1 &
pids+=($!)

echo "run: starting (logs in $VAR_DIR/log/) ..."
"$VENV/bin/python" -m devtools wait-ready --timeout 180 \
  "http://$RASA_HOST:$RASA_PORT/" "http://127.0.0.1:$ACTION_PORT/health" "http://127.0.0.1:$WEB_PORT/"

cat <<TXT

  Web chat:       http://127.0.0.1:$WEB_PORT/
  Rasa REST:      http://$RASA_HOST:$RASA_PORT/webhooks/rest/webhook
  Rasa socket.io: http://$RASA_HOST:$RASA_PORT/socket.io
  Action server:  http://127.0.0.1:$ACTION_PORT/webhook  (Rasa only: ACTION_SERVER_TOKEN)
  Rasa HTTP API:  token in \$RASA_AUTH_TOKEN or $VAR_DIR/secrets/rasa_auth_token

  Try:  curl -s -XPOST http://$RASA_HOST:$RASA_PORT/webhooks/rest/webhook \\
          -H 'Content-Type: application/json' -d '{"sender": "me", "message": "my card has not arrived"}'

  Press Ctrl-C to stop.
TXT

# Stop everything as soon as one of the processes exits.
wait -n "${pids[@]}" || true
echo "run: a process exited; see $VAR_DIR/log/" >&2
exit 1
