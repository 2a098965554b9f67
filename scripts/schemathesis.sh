#!/usr/bin/env bash
# Checks that the published document is the API: runs schemathesis (pinned, installed
# in a venv under ~/.cache on first use) with every check and the stateful phase over
# every operation of /api/v1/openapi.json, against the real `ledgerbot` binary on a
# fresh database and stream, once per role: anonymous, as a client, an executor,
# support, an admin (each given its role by the owner) and the owner (made with
# `ledgerbot owner grant` before the first sign-in). Exits non-zero on any failure;
# removes the database and the stream it made.
#
# Needs PostgreSQL and NATS (scripts/services.sh up) and python3. Called by
# scripts/test.sh; on its own:
#   LEDGERBOT_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
#   LEDGERBOT_TEST_NATS_URL=nats://127.0.0.1:4222 bash scripts/schemathesis.sh
# SCHEMATHESIS_MAX_EXAMPLES (default 30) bounds the cases per operation and phase
# (the long run of the README's "Performance": 250); SCHEMATHESIS_ROLES (default all
# six) names the roles to run as;
# LEDGERBOT_BIN names a ledgerbot binary to use instead of building one.
set -euo pipefail
root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root_dir"

version=4.32.5
venv=${SCHEMATHESIS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/ledgerbot/schemathesis-$version}
max_examples=${SCHEMATHESIS_MAX_EXAMPLES:-30}
say() { printf '[schemathesis] %s\n' "$*"; }

command -v python3 >/dev/null 2>&1 \
  || { echo "[schemathesis] error: python3 is needed (apt-get install python3 python3-venv)" >&2; exit 1; }
if ! "$venv/bin/st" --version 2>/dev/null | grep -q "version $version\$"; then
  say "installing schemathesis $version into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version"
fi

# LEDGERBOT_BIN names a binary already built (as for the black-box tests).
binary=${LEDGERBOT_BIN:-}
if [[ -z "$binary" ]]; then
  cargo build --bin ledgerbot --quiet
  binary="${CARGO_TARGET_DIR:-$root_dir/target}/debug/ledgerbot"
fi

admin_url=${LEDGERBOT_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
nats_url=${LEDGERBOT_TEST_NATS_URL:-nats://127.0.0.1:4222}
run_id=$(python3 -c 'import uuid; print(uuid.uuid4().hex[:12])')
base=${admin_url%%\?*}
database_url="${base%/*}/lbst_$run_id"
work=$(mktemp -d)
bot_token="4242:SCHEMATHESIS-bot-token"
client_telegram_id=700000001
owner_telegram_id=700000002
staff_telegram_id=700000010
roles=${SCHEMATHESIS_ROLES:-anonymous client executor support admin owner}

export DATABASE_URL=$database_url NATS_URL=$nats_url
export LEDGERBOT_STREAM="LBST_$run_id" LEDGERBOT_SUBJECT_PREFIX="lbst$run_id"
export LEDGERBOT_HTTP_ADDR=127.0.0.1:0 LEDGERBOT_LOG_FORMAT=json LEDGERBOT_LOG=warn,api=info
export LEDGERBOT_BOT_TOKEN=$bot_token LEDGERBOT_BOT_USERNAME=ledgerbot_schemathesis_bot
export LEDGERBOT_JWT_SECRET="schemathesis-jwt-secret-of-32-characters"
# The run lasts minutes: tokens outlive it; it is its own only caller.
export LEDGERBOT_ACCESS_TOKEN_TTL_SECS=3600
export LEDGERBOT_RATE_LIMIT_PER_USER=1000000 LEDGERBOT_RATE_LIMIT_PER_IP=1000000
# The built-in sandbox takes the payments (no money moves); notifications from here.
export LEDGERBOT_YOOKASSA_MODE=sandbox LEDGERBOT_YOOKASSA_NOTIFICATION_IPS=any

server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  "$venv/bin/python" - "$admin_url" "lbst_$run_id" "$nats_url" "LBST_$run_id" <<'PY' || true
import socket, subprocess, sys, urllib.parse
admin, database, nats, stream = sys.argv[1:]
subprocess.run(["psql", admin, "-q", "-c", f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'],
               check=False, capture_output=True)
# JetStream's API over the NATS protocol: delete the run's stream.
url = urllib.parse.urlparse(nats)
with socket.create_connection((url.hostname or "127.0.0.1", url.port or 4222), timeout=5) as s:
    s.recv(4096)
    s.sendall(b'CONNECT {"verbose":false}\r\nSUB _INBOX.st 1\r\n'
              + f"PUB $JS.API.STREAM.DELETE.{stream} _INBOX.st 0\r\n\r\n".encode()
              + b"PING\r\n")
    s.recv(4096)
PY
  rm -rf "$work"
}
trap cleanup EXIT

say "granting the owner role to Telegram account $owner_telegram_id on a fresh database"
"$binary" owner grant "$owner_telegram_id" --reason "schemathesis" >/dev/null

"$binary" serve >"$work/server.log" 2>&1 &
server_pid=$!
address=""
for _ in $(seq 1 300); do
  address=$(sed -n 's/.*"address":"\([0-9.]*:[0-9]*\)".*/\1/p' "$work/server.log" | head -n 1)
  [[ -n "$address" ]] && curl -fsS "http://$address/health/ready" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log" >&2; exit 1; }
  sleep 0.2
done
[[ -n "$address" ]] || { echo "[schemathesis] error: ledgerbot did not come up" >&2; exit 1; }
api="http://$address"
say "ledgerbot serves on $api"

# Sign-in and something to work on: access tokens for a client and the owner
# (initData signed as Telegram signs it, as tests/src/telegram.rs does, traded at
# POST /api/v1/auth/telegram), then the client's ticket, order and payment and the
# owner's ticket category, whose ids scripts/schemathesis.toml gives the operations
# that need an existing one. Prints shell assignments.
"$venv/bin/python" - "$api" "$bot_token" "$client_telegram_id" "$owner_telegram_id" \
  "$staff_telegram_id" >"$work/seeded.sh" <<'PY'
import hashlib, hmac, json, sys, time, urllib.error, urllib.parse, urllib.request
api, bot_token, client_id, owner_id, staff_id = sys.argv[1:]

def call(method, path, body=None, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    for attempt in range(20):
        request = urllib.request.Request(f"{api}{path}", data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request) as answer:
                return json.load(answer)
        except urllib.error.HTTPError as error:
            # 503: the read model is a moment behind (not_ready, not_yet_visible).
            if error.code != 503 or attempt == 19:
                raise SystemExit(f"{method} {path}: {error.code} {error.read().decode()}")
            time.sleep(0.5)

def token_for(telegram_id, name):
    user = json.dumps({"id": int(telegram_id), "first_name": name,
                       "username": f"user{telegram_id}", "language_code": "ru"}, ensure_ascii=False)
    fields = {"auth_date": str(int(time.time())), "query_id": "schemathesis", "user": user}
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    session = call("POST", "/api/v1/auth/telegram", {"init_data": urllib.parse.urlencode(fields)})
    return session["access_token"], session["user"]["user_id"]

client, client_user = token_for(client_id, "Клиент")
owner, _ = token_for(owner_id, "Владелец")
# Staff: signed in as clients, given their role by the owner, signed in again so
# their tokens carry it.
staff = {}
for offset, role in enumerate(["executor", "support", "admin"]):
    _, user_id = token_for(int(staff_id) + offset, role.capitalize())
    call("POST", f"/api/v1/users/{user_id}/role", {"role": role}, owner)
    staff[role], _ = token_for(int(staff_id) + offset, role.capitalize())
call("POST", "/api/v1/tickets/categories",
     {"code": "seeded", "name": "Заготовка", "colour": "#336699"}, owner)
ticket = call("POST", "/api/v1/tickets",
              {"category": "seeded", "title": "Заготовка", "description": "Первое сообщение"}, client)
ticket = call("POST", f"/api/v1/tickets/{ticket['ticket_id']}/messages", {"text": "Второе"}, client)
order = call("POST", "/api/v1/orders", {
    "subject": "Заготовка", "work_type": "курсовая", "volume": 10,
    "deadline": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 30 * 86400))}, client)
payment = call("POST", "/api/v1/payments",
               {"purpose": {"kind": "credit_pack", "pack": "S"}, "idempotence_key": "seeded"}, client)
for name, value in {
    "anonymous_token": "", "client_token": client, "owner_token": owner,
    "executor_token": staff["executor"], "support_token": staff["support"],
    "admin_token": staff["admin"],
    "LB_CLIENT_USER_ID": client_user, "LB_CATEGORY": "seeded",
    "LB_TICKET_ID": ticket["ticket_id"], "LB_MESSAGE_ID": ticket["messages"][-1]["message_id"],
    "LB_ORDER_ID": order["order_id"], "LB_PAYMENT_ID": payment["payment_id"],
}.items():
    print(f"{name}={value}")
PY
# shellcheck disable=SC1091
source "$work/seeded.sh"
export LB_CLIENT_USER_ID LB_CATEGORY LB_TICKET_ID LB_MESSAGE_ID LB_ORDER_ID LB_PAYMENT_ID

status=0
# One run of schemathesis as `who`; prints its output and answers its exit status.
run_once() {
  local who=$1
  shift
  # Every check, as configured in scripts/schemathesis.toml, where one thing is
  # widened: valid data may also be answered 422 (a rule over the data that a schema
  # cannot state: a deadline in the future, an id that must exist, a signature, a
  # cursor from a previous page; each operation declares its 422) and, for
  # GET /api/v1/ws, 426 (schemathesis speaks HTTP, not WebSocket).
  # From the run's own folder: schemathesis keeps its cache where it runs.
  (cd "$work" && "$venv/bin/st" --config-file "$root_dir/scripts/schemathesis.toml" run "$api/api/v1/openapi.json" \
    --checks all \
    --phases examples,coverage,fuzzing,stateful \
    --max-examples "$max_examples" \
    --seed 20261123 \
    --workers 2 \
    --request-timeout 20 \
    --no-color \
    --report junit --report-dir "$work/report-$who" \
    "$@") 2>&1 | tee "$work/output-$who"
  return "${PIPESTATUS[0]}"
}
run() {
  local who=$1
  say "as $who"
  local started=$SECONDS
  if ! run_once "$@"; then
    # A crash inside CPython's compiler under Hypothesis (seen now and then on this
    # machine, never a finding about the API) is run again once; anything else stands.
    if grep -q "SystemError: AST constructor recursion depth mismatch" "$work/output-$who"; then
      say "as $who: schemathesis itself crashed (CPython's AST recursion check); running it again"
      run_once "$@" || status=1
    else
      status=1
    fi
  fi
  say "as $who: $((SECONDS - started)) s"
}
for who in $roles; do
  token_variable="${who}_token"
  [[ -v $token_variable ]] || { echo "[schemathesis] error: no such role: $who" >&2; exit 1; }
  if [[ $who == anonymous ]]; then
    run anonymous
  else
    run "$who" -H "Authorization: Bearer ${!token_variable}"
  fi
done
if [[ $status -ne 0 ]]; then
  say "failures above; the server's log:"
  grep -v '"level":"INFO"' "$work/server.log" | tail -n 50 >&2 || true
fi
exit $status
