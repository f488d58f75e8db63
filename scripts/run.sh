#!/usr/bin/env bash
# The main command: set up, train if needed, then start the action server, Rasa, the
# web chat and the staff console on loopback. Ctrl-C stops everything this script started.
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

# The channels: credentials.yml, plus Telegram and Twilio (credentials.d/) when their
# secrets are in the environment. Optional settings default to empty (Rasa refuses to
# start on an unset ${...}).
credentials="$VAR_DIR/credentials.yml"
cp credentials.yml "$credentials"
channels="website widget, REST"
if [ -n "${TELEGRAM_TOKEN:-}" ]; then
  export TELEGRAM_BOT_NAME="${TELEGRAM_BOT_NAME-}" TELEGRAM_WEBHOOK_URL="${TELEGRAM_WEBHOOK_URL-}"
  export TELEGRAM_SECRET_TOKEN="${TELEGRAM_SECRET_TOKEN-}"
  { echo; cat credentials.d/telegram.yml; } >>"$credentials"
  channels+=", Telegram"
fi
if [ -n "${TWILIO_ACCOUNT_SID:-}" ]; then
  export TWILIO_AUTH_TOKEN="${TWILIO_AUTH_TOKEN-}" TWILIO_NUMBER="${TWILIO_NUMBER-}"
  export TWILIO_WEBHOOK_URL="${TWILIO_WEBHOOK_URL-}" TWILIO_TRUST_PROXY="${TWILIO_TRUST_PROXY:-false}"
  export TWILIO_WHATSAPP_TEMPLATE_SID="${TWILIO_WHATSAPP_TEMPLATE_SID-}"
  { echo; cat credentials.d/twilio.yml; } >>"$credentials"
  channels+=", SMS/WhatsApp (Twilio)"
fi

rasa_args=(run --model "$MODEL_PATH" --endpoints endpoints.yml --credentials "$credentials"
  --interface "$RASA_HOST" --port "$RASA_PORT" --enable-api --auth-token "$RASA_AUTH_TOKEN"
  --cors "http://127.0.0.1:$WEB_PORT")
"$VENV/bin/python" -m bot.rasa "${rasa_args[@]}" >"$VAR_DIR/log/rasa.log" 2>&1 &
pids+=($!)

"$VENV/bin/python" -m bot webchat --host 127.0.0.1 --port "$WEB_PORT" \
  --rasa-url "http://$RASA_HOST:$RASA_PORT" >"$VAR_DIR/log/webchat.log" 2>&1 &
pids+=($!)

"$VENV/bin/python" -m bot console --host 127.0.0.1 --port "$CONSOLE_PORT" \
  --rasa-url "http://$RASA_HOST:$RASA_PORT" >"$VAR_DIR/log/console.log" 2>&1 &
pids+=($!)

echo "run: starting (logs in $VAR_DIR/log/) ..."
"$VENV/bin/python" -m devtools wait-ready --timeout 180 \
  "http://$RASA_HOST:$RASA_PORT/" "http://127.0.0.1:$ACTION_PORT/health" "http://127.0.0.1:$WEB_PORT/" \
  "http://127.0.0.1:$CONSOLE_PORT/login"

# The staff console's accounts: none on a fresh machine; say how to make the first one.
staff_accounts="$("$VENV/bin/python" -m bot staff list | tail -n 1)"
if [ "$staff_accounts" = "0 staff users" ]; then
  staff_note="no accounts yet; create one (the password is asked twice):
                  .venv/bin/python -m bot staff add-user YOUR.NAME --role admin"
else
  staff_note="$staff_accounts (.venv/bin/python -m bot staff list)"
fi

# Demo links for customers logged in to the bank's website (a signed identity token in
# the page address, as the website would embed it; valid for 8 hours).
demo_links=""
for customer in margaret.w lucia.g amelie.d; do
  link="$("$VENV/bin/python" -m bot webchat-link "$customer" --hours 8 --base-url "http://127.0.0.1:$WEB_PORT")"
  demo_links+="    $customer: $link"$'\n'
done

cat <<TXT

  Channels:       $channels
  Web chat:       http://127.0.0.1:$WEB_PORT/   (an anonymous visitor)
  Staff console:  http://127.0.0.1:$CONSOLE_PORT/   $staff_note
  Logged in as a demo customer (demo/customers.yml):
$demo_links  Rasa REST:      http://$RASA_HOST:$RASA_PORT/webhooks/rest/webhook
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
