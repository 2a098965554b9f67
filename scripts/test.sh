#!/usr/bin/env bash
# Sets up what the tests need (PostgreSQL and NATS, as scripts/services.sh does for the
# product; Chromium and playwright-core for the Mini App, as scripts/browser.sh does)
# and runs every check: formatting, clippy, and all tests of the workspace,
# unit and black-box. Exits non-zero when anything fails.
set -euo pipefail
root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root_dir"

command -v cargo >/dev/null 2>&1 \
  || { echo "[test] error: cargo is not installed; install Rust with rustup (https://rustup.rs)" >&2; exit 1; }

bash scripts/services.sh up
# The Mini App's tests run in a real browser: Chromium and playwright-core.
bash scripts/browser.sh

# The tests create their own databases next to the configured one and their own
# streams on the configured NATS.
database_url=${DATABASE_URL:-}
nats_url=${NATS_URL:-}
if [[ -f .env ]]; then
  [[ -z "$database_url" ]] && database_url=$(sed -n 's/^[[:space:]]*DATABASE_URL[[:space:]]*=[[:space:]]*//p' .env | tail -n 1 | tr -d "\"'")
  [[ -z "$nats_url" ]] && nats_url=$(sed -n 's/^[[:space:]]*NATS_URL[[:space:]]*=[[:space:]]*//p' .env | tail -n 1 | tr -d "\"'")
fi
database_url=${database_url:-postgres://postgres@127.0.0.1:5432/ledgerbot}
nats_url=${nats_url:-nats://127.0.0.1:4222}
base=${database_url%%\?*}
export LEDGERBOT_TEST_DATABASE_URL="${base%/*}/postgres"
export LEDGERBOT_TEST_NATS_URL=${nats_url%%,*}

echo "[test] cargo fmt --check"
cargo fmt --all -- --check
echo "[test] cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "[test] building the ledgerbot binary (black-box tests start it)"
cargo build --bin ledgerbot --quiet

echo "[test] the Docker files, as far as they can be checked without a Docker engine"
say() { printf '[test] %s\n' "$*"; }
source scripts/debian.sh
deploy_python=python3
if ! python3 -c 'import yaml' 2>/dev/null; then
  if is_debian_root; then
    apt_install python3-yaml
  else
    deploy_venv=${XDG_CACHE_HOME:-$HOME/.cache}/ledgerbot/deploy-check
    [[ -x "$deploy_venv/bin/python" ]] || python3 -m venv "$deploy_venv"
    "$deploy_venv/bin/python" -c 'import yaml' 2>/dev/null \
      || "$deploy_venv/bin/pip" install --quiet --disable-pip-version-check pyyaml
    deploy_python="$deploy_venv/bin/python"
  fi
fi
"$deploy_python" scripts/check_deploy.py "${CARGO_TARGET_DIR:-$root_dir/target}/debug/ledgerbot"

# The fault drill runs a private PostgreSQL of its own: it needs the server's
# binaries (initdb, pg_ctl) even where another server answers at DATABASE_URL.
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 && ! command -v pg_ctl >/dev/null 2>&1; then
  if is_debian_root; then apt_install postgresql; else say "warning: PostgreSQL's server binaries (initdb, pg_ctl) are missing: the drill test will fail"; fi
fi

if cargo nextest --version >/dev/null 2>&1; then
  echo "[test] cargo nextest run"
  cargo nextest run --workspace --no-fail-fast --config-file scripts/nextest.toml
else
  echo "[test] cargo test (install cargo-nextest for faster, per-test-process runs)"
  cargo test --workspace --no-fail-fast
fi

echo "[test] schemathesis: the published document against the running API"
bash scripts/schemathesis.sh
