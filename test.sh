#!/usr/bin/env bash
# Install the app with its test tools, then run the test suite.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install.sh --dev
exec .venv/bin/python -m pytest "$@"
