#!/usr/bin/env bash
# Install everything on first run, then start Digital Life.
set -euo pipefail
cd "$(dirname "$0")"
scripts/install.sh
exec .venv/bin/dl-app "$@"
