# Sourced by the other scripts: project root, virtualenv and the environment Rasa runs in.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
export PYTHONPATH="$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export RASA_TELEMETRY_ENABLED=false
export TF_CPP_MIN_LOG_LEVEL=2
export PYTHONDONTWRITEBYTECODE=1
export SQLALCHEMY_SILENCE_UBER_WARNING=1
# Defaults for what endpoints.yml and the run script read; override them in the environment.
export RASA_HOST="${RASA_HOST:-127.0.0.1}"
export RASA_PORT="${RASA_PORT:-5005}"
export ACTION_PORT="${ACTION_PORT:-5055}"
export ACTION_SERVER_URL="${ACTION_SERVER_URL:-http://127.0.0.1:${ACTION_PORT}/webhook}"
export WEB_PORT="${WEB_PORT:-8080}"
# The staff console (web); CONSOLE_SECURE_COOKIES=1 behind HTTPS.
export CONSOLE_PORT="${CONSOLE_PORT:-8090}"
export VAR_DIR="${VAR_DIR:-$ROOT/var}"
export TRACKER_DB="${TRACKER_DB:-$VAR_DIR/tracker.db}"
export MODEL_PATH="${MODEL_PATH:-$ROOT/models/bank.tar.gz}"
export SANIC_HOST="${SANIC_HOST:-127.0.0.1}"
# Request bodies larger than this get a 413 from Rasa's and the action server's Sanic.
export SANIC_REQUEST_MAX_SIZE="${SANIC_REQUEST_MAX_SIZE:-1000000}"
# The plugin's own database (customers, handoffs) and the spool for writes it could not take.
export DATABASE_URL="${DATABASE_URL:-sqlite:///$VAR_DIR/bank.db}"
export HANDOFF_SPOOL_DIR="${HANDOFF_SPOOL_DIR:-$VAR_DIR/spool}"
# Secrets: from the environment, else generated once into $VAR_DIR/secrets (readable by
# this user only) — Rasa's HTTP API token and the action server's shared secret.
secret() {
  local file="$VAR_DIR/secrets/$1"
  if [ ! -s "$file" ]; then
    (umask 077 && mkdir -p "$VAR_DIR/secrets" && head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$file")
  fi
  cat "$file"
}
export RASA_AUTH_TOKEN="${RASA_AUTH_TOKEN:-$(secret rasa_auth_token)}"
export ACTION_SERVER_TOKEN="${ACTION_SERVER_TOKEN:-$(secret action_server_token)}"
# The key the bank's website signs its logged-in customer's identity token with (shared
# with the website), and the key binding widget sessions to customers (the assistant's own).
export CUSTOMER_IDENTITY_KEY="${CUSTOMER_IDENTITY_KEY:-$(secret customer_identity_key)}"
export WIDGET_SESSION_KEY="${WIDGET_SESSION_KEY:-$(secret widget_session_key)}"
# Web pages allowed to open the widget's socket.io connection (comma-separated origins).
export WIDGET_ORIGINS="${WIDGET_ORIGINS:-http://127.0.0.1:$WEB_PORT,http://localhost:$WEB_PORT}"
