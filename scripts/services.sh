#!/usr/bin/env bash
# Makes PostgreSQL and NATS (with JetStream) available at the addresses Ledgerbot is
# configured with (DATABASE_URL and NATS_URL from the environment or .env, with the
# same defaults as the product), and says what it did:
#   1. a server already answers there        -> use it;
#   2. the address is local and the binaries are installed -> start a private instance
#      with its data under .local/ in the checkout (ignored by git);
#   3. running as root on Debian             -> apt-get install postgresql / nats-server,
#      then as in 2;
#   4. otherwise                              -> stop with what to install.
#
# Usage: scripts/services.sh up | down | status
set -euo pipefail

root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
local_dir="$root_dir/.local"

say() { printf '[services] %s\n' "$*"; }
fail() { printf '[services] error: %s\n' "$*" >&2; exit 1; }

load_settings() {
  if [[ -f "$root_dir/.env" ]]; then
    # Only the two addresses matter here; the product reads .env itself.
    local line key value
    while IFS= read -r line || [[ -n "$line" ]]; do
      [[ "$line" =~ ^[[:space:]]*(DATABASE_URL|NATS_URL)[[:space:]]*=[[:space:]]*(.*)$ ]] || continue
      key=${BASH_REMATCH[1]}
      value=${BASH_REMATCH[2]%\"}; value=${value#\"}; value=${value%\'}; value=${value#\'}
      [[ -z "${!key:-}" ]] && export "$key=$value"
    done < "$root_dir/.env"
  fi
  DATABASE_URL=${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/ledgerbot}
  NATS_URL=${NATS_URL:-nats://127.0.0.1:4222}
  export DATABASE_URL NATS_URL

  # postgres://user[:password]@host[:port]/database[?params]
  local rest=${DATABASE_URL#*://}
  rest=${rest%%\?*}
  local authority=${rest%%/*}
  PG_DATABASE=${rest#*/}
  local hostport=${authority##*@}
  local credentials=""
  if [[ "$authority" == *@* ]]; then credentials=${authority%@*}; fi
  PG_USER=${credentials%%:*}
  PG_USER=${PG_USER:-postgres}
  split_host_port "$hostport" 5432
  PG_HOST=${HOST:-127.0.0.1}
  PG_PORT=$PORT

  # The first NATS URL: scheme://[user:pass@]host[:port]
  local nats=${NATS_URL%%,*}
  nats=${nats#*://}
  nats=${nats##*@}
  nats=${nats%%/*}
  split_host_port "$nats" 4222
  NATS_HOST=${HOST:-127.0.0.1}
  NATS_PORT=$PORT
}

# Sets HOST and PORT from host[:port], [v6]:port or [v6].
split_host_port() {
  local value=$1
  PORT=$2
  if [[ "$value" =~ ^\[([^]]+)\](:([0-9]+))?$ ]]; then
    HOST=${BASH_REMATCH[1]}
    if [[ -n "${BASH_REMATCH[3]}" ]]; then PORT=${BASH_REMATCH[3]}; fi
  elif [[ "$value" =~ ^([^:]*):([0-9]+)$ ]]; then
    HOST=${BASH_REMATCH[1]}
    PORT=${BASH_REMATCH[2]}
  else
    HOST=$value
  fi
}

# Only literal loopback addresses (and localhost) count: a private instance with trust
# authentication must never listen anywhere else.
is_local() { [[ "$1" =~ ^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ || "$1" == localhost || "$1" == "::1" ]]; }

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

postgres_answers() {
  if command -v pg_isready >/dev/null 2>&1; then
    pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2
  else
    port_open "$PG_HOST" "$PG_PORT"
  fi
}

# Reads the INFO line a NATS server sends on connect.
nats_info() {
  local info=""
  if { exec 3<>"/dev/tcp/$NATS_HOST/$NATS_PORT"; } 2>/dev/null; then
    IFS= read -r -t 3 info <&3 || true
    exec 3<&- 3>&-
  fi
  printf '%s' "$info"
}

# is_debian_root, apt_install
source "$root_dir/scripts/debian.sh"

postgres_bin_dir() {
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v pg_ctl)"
    return 0
  fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [[ -n "$dir" && -x "$dir/pg_ctl" ]] && { printf '%s' "$dir"; return 0; }
  return 1
}

# PostgreSQL refuses to run as root: as root, run it as the `postgres` system user
# (created by the Debian package; created here when missing).
as_db_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

# Where the local cluster lives: .local/postgres in the checkout, unless the checkout
# is somewhere the `postgres` user cannot reach (say /root, when run as root); then a
# folder under /var/tmp named after the checkout, and it says so.
postgres_home() {
  local home="$local_dir/postgres"
  if [[ $(id -u) -eq 0 ]]; then
    id postgres >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin postgres
    mkdir -p "$local_dir"
    if ! runuser -u postgres -- test -x "$local_dir"; then
      home="/var/tmp/ledgerbot-$(printf '%s' "$root_dir" | cksum | cut -d' ' -f1)/postgres"
      say "the postgres user cannot enter $root_dir; keeping the local cluster in $home instead" >&2
    fi
  fi
  printf '%s' "$home"
}

start_local_postgres() {
  local bin=$1 home
  home=$(postgres_home)
  local data="$home/data" run="$home/run"
  mkdir -p "$data" "$run"
  if [[ $(id -u) -eq 0 ]]; then chown -R postgres "$home"; fi
  chmod 700 "$data"
  if [[ ! -f "$data/PG_VERSION" ]]; then
    say "initialising a local PostgreSQL cluster in $data"
    as_db_owner "$bin/initdb" -D "$data" -U "$PG_USER" --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null \
      || as_db_owner "$bin/initdb" -D "$data" -U "$PG_USER" --auth=trust -E UTF8 >/dev/null
  fi
  say "starting a local PostgreSQL on $PG_HOST:$PG_PORT (data in $data, log in $home/postgres.log)"
  as_db_owner "$bin/pg_ctl" -D "$data" -l "$home/postgres.log" -w -t 60 \
    -o "-p $PG_PORT -c listen_addresses=$PG_HOST -k $run" start >/dev/null
}

ensure_postgres() {
  if postgres_answers; then
    say "PostgreSQL answers on $PG_HOST:$PG_PORT: using it"
    return
  fi
  is_local "$PG_HOST" || fail "PostgreSQL at $PG_HOST:$PG_PORT (DATABASE_URL) does not answer, and it is not on this machine, so it cannot be started here"
  local bin
  if ! bin=$(postgres_bin_dir); then
    is_debian_root || fail "PostgreSQL is not installed. Install it (Debian: apt-get install postgresql) or point DATABASE_URL at a running server."
    apt_install postgresql
    bin=$(postgres_bin_dir) || fail "postgresql was installed but its binaries were not found under /usr/lib/postgresql"
  fi
  start_local_postgres "$bin"
  postgres_answers || fail "the local PostgreSQL did not come up; see its postgres.log"
}

nats_server_bin() {
  command -v nats-server 2>/dev/null && return 0
  local candidate
  for candidate in /usr/sbin/nats-server /usr/local/sbin/nats-server /usr/local/bin/nats-server; do
    [[ -x "$candidate" ]] && { printf '%s' "$candidate"; return 0; }
  done
  return 1
}

start_local_nats() {
  local bin=$1 dir="$local_dir/nats"
  mkdir -p "$dir/store"
  say "starting a local nats-server with JetStream on $NATS_HOST:$NATS_PORT (store in .local/nats, log in .local/nats/nats.log)"
  nohup setsid "$bin" -a "$NATS_HOST" -p "$NATS_PORT" -js -sd "$dir/store" \
    -l "$dir/nats.log" -P "$dir/nats.pid" >/dev/null 2>&1 < /dev/null &
  local tries=0
  until [[ -n "$(nats_info)" ]]; do
    tries=$((tries + 1))
    [[ $tries -gt 100 ]] && fail "the local nats-server did not come up; see .local/nats/nats.log"
    sleep 0.1
  done
}

ensure_nats() {
  local info
  info=$(nats_info)
  if [[ -n "$info" ]]; then
    [[ "$info" == *'"jetstream":true'* ]] \
      || fail "a NATS server answers on $NATS_HOST:$NATS_PORT but JetStream is off; restart it with -js (or point NATS_URL elsewhere)"
    say "NATS with JetStream answers on $NATS_HOST:$NATS_PORT: using it"
    return
  fi
  is_local "$NATS_HOST" || fail "NATS at $NATS_HOST:$NATS_PORT (NATS_URL) does not answer, and it is not on this machine, so it cannot be started here"
  local bin
  if ! bin=$(nats_server_bin); then
    is_debian_root || fail "nats-server is not installed. Install it (Debian: apt-get install nats-server) or point NATS_URL at a running server."
    apt_install nats-server
    bin=$(nats_server_bin) || fail "nats-server was installed but not found"
  fi
  start_local_nats "$bin"
}

down() {
  local home
  home=$(postgres_home)
  if [[ -f "$home/data/postmaster.pid" ]]; then
    local bin
    bin=$(postgres_bin_dir) && as_db_owner "$bin/pg_ctl" -D "$home/data" -m fast stop >/dev/null \
      && say "stopped the local PostgreSQL"
  fi
  if [[ -f "$local_dir/nats/nats.pid" ]]; then
    kill "$(cat "$local_dir/nats/nats.pid")" 2>/dev/null && say "stopped the local nats-server"
    rm -f "$local_dir/nats/nats.pid"
  fi
  return 0
}

status() {
  if postgres_answers; then say "PostgreSQL: answering on $PG_HOST:$PG_PORT"; else say "PostgreSQL: not answering on $PG_HOST:$PG_PORT"; fi
  local info
  info=$(nats_info)
  if [[ -z "$info" ]]; then say "NATS: not answering on $NATS_HOST:$NATS_PORT"
  elif [[ "$info" == *'"jetstream":true'* ]]; then say "NATS: answering on $NATS_HOST:$NATS_PORT with JetStream"
  else say "NATS: answering on $NATS_HOST:$NATS_PORT WITHOUT JetStream"; fi
}

load_settings
case "${1:-up}" in
  up) ensure_postgres; ensure_nats ;;
  down) down ;;
  status) status ;;
  *) fail "usage: scripts/services.sh up | down | status" ;;
esac
