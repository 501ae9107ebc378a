#!/usr/bin/env bash
# Run the test suite on the newest versions that pyproject.toml allows, not on the
# lock: finds the drift that a fresh `pip install dl-app` would meet before users do.
# Usage: scripts/test-latest.sh [pytest args]   (its own venv: .venv-latest)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
rm -rf .venv-latest
"$PY" -m venv .venv-latest
.venv-latest/bin/python -m pip install --quiet --upgrade pip
.venv-latest/bin/python -m pip install --quiet --upgrade -e ".[dev]"
echo "test-latest.sh: newest versions installed:" >&2
.venv-latest/bin/python -m pip list --format=freeze 2>/dev/null | tr '\n' ' ' >&2
echo >&2
exec .venv-latest/bin/python -m pytest "$@"
