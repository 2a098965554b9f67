#!/usr/bin/env bash
# Makes what the Mini App's browser tests need available, and says what it did:
#   - Chromium: $LEDGERBOT_CHROMIUM or /usr/bin/chromium when present; otherwise, as
#     root on Debian, `apt-get install chromium` (Debian's package: no browser is
#     downloaded from anywhere else); otherwise stop with what to install;
#   - Node.js and npm: present, or as root on Debian `apt-get install nodejs npm`;
#   - playwright-core, from the npm registry at the version tests/e2e's lock file
#     pins (`npm ci`), into tests/e2e/node_modules (ignored by git).
set -euo pipefail
root_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

say() { printf '[browser] %s\n' "$*"; }
fail() { printf '[browser] error: %s\n' "$*" >&2; exit 1; }
# is_debian_root, apt_install
source "$root_dir/scripts/debian.sh"

chromium=${LEDGERBOT_CHROMIUM:-/usr/bin/chromium}
if [[ -x "$chromium" ]]; then
  say "Chromium: $chromium"
elif is_debian_root; then
  apt_install chromium
  [[ -x /usr/bin/chromium ]] || fail "apt-get installed chromium but /usr/bin/chromium is missing"
  say "Chromium: /usr/bin/chromium (installed)"
else
  fail "Chromium is not installed. Install it (Debian: apt-get install chromium) or set LEDGERBOT_CHROMIUM to a Chromium binary."
fi

if ! command -v npm >/dev/null 2>&1; then
  is_debian_root || fail "Node.js and npm are needed (Debian: apt-get install nodejs npm)"
  apt_install nodejs npm
fi

lock="$root_dir/tests/e2e/package-lock.json"
marker="$root_dir/tests/e2e/node_modules/.package-lock.json"
if [[ -f "$marker" && "$marker" -nt "$lock" ]]; then
  say "playwright-core: already installed in tests/e2e/node_modules"
else
  say "playwright-core: npm ci in tests/e2e (the npm registry, the lock file's versions)"
  npm ci --prefix "$root_dir/tests/e2e" --no-audit --no-fund --loglevel=error >/dev/null
fi
