#!/usr/bin/env bash
# Sets up and runs Ledgerbot on this machine: makes PostgreSQL and NATS available
# (scripts/services.sh says how), builds the `ledgerbot` binary, migrates the
# database and serves until Ctrl-C. The binary is an optimised (release) build.
# Extra arguments go to `ledgerbot serve`.
set -euo pipefail
root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root_dir"

command -v cargo >/dev/null 2>&1 \
  || { echo "[run] error: cargo is not installed; install Rust with rustup (https://rustup.rs)" >&2; exit 1; }

bash scripts/services.sh up

# An optimised build: what users run. The first one compiles every dependency with
# optimisations, which takes 10 minutes or more on two cores; later ones only what changed.
binary="${CARGO_TARGET_DIR:-$root_dir/target}/release/ledgerbot"
if [[ -x "$binary" ]]; then
  echo "[run] building ledgerbot (release; only what changed since the last build)"
else
  echo "[run] building ledgerbot for the first time (release, optimised): expect 10 minutes or more on two cores"
fi
cargo build --release --bin ledgerbot

# Payments: the built-in sandbox (a test checkout, no money moves) unless a mode or
# YooKassa keys are configured. The binary itself never guesses.
if "$binary" config | grep -qx 'LEDGERBOT_YOOKASSA_MODE='; then
  export LEDGERBOT_YOOKASSA_MODE=sandbox
  echo "[run] payments: the built-in sandbox (no money moves); set LEDGERBOT_YOOKASSA_MODE=live with YooKassa keys to take money"
fi

"$binary" migrate

address=$("$binary" config | sed -n 's/^LEDGERBOT_HTTP_ADDR=//p')
host=${address%:*}
port=${address##*:}
[[ "$host" == "0.0.0.0" || "$host" == "[::]" ]] && host=127.0.0.1
base="http://$host:$port"
cat <<INFO
[run] Ledgerbot is starting on $base
[run]   readiness: $base/health/ready   (200 once Postgres and NATS answer)
[run]   liveness:  $base/health/live
[run]   metrics:   $base/metrics        (Prometheus text format)
[run] Stop it with Ctrl-C. Local services started for it keep running; scripts/services.sh down stops them.
INFO
exec "$binary" serve "$@"
