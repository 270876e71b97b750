#!/usr/bin/env bash
# Install everything hadac needs on this machine (Debian 12 or 13, Python 3.11, root):
# the Python environment in .venv (pinned by constraints.txt) and MiniZinc with Gecode,
# COIN-BC, HiGHS and Chuffed (scripts/install-minizinc.sh). Safe to rerun: finished steps
# are skipped, so a second run takes seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi

# Reinstall the package only when what it depends on changed.
stamp=.venv/.hadac-installed
wanted=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
  echo "setup: installing hadac and its dependencies into .venv"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -c constraints.txt -e '.[test]'
  echo "$wanted" > "$stamp"
fi
# hadac's own bytecode, as a regular install writes it: each command then starts without
# compiling the package, even where PYTHONDONTWRITEBYTECODE is set (only changed files are
# compiled again).
.venv/bin/python -m compileall -q hadac

bash scripts/install-minizinc.sh

# Headless Chromium renders `hadac report` pages and drives the what-if page (through
# Playwright, which uses this browser: it downloads none) in the tests; installed once.
if ! command -v chromium >/dev/null; then
  echo "setup: installing chromium (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
