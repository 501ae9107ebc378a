#!/usr/bin/env bash
# Install a lock file of locks/ into a Python environment, then the app in place.
# Usage: scripts/pip-locked.sh PYTHON LOCK     (e.g. .venv/bin/python locks/dev.txt)
#
# Every file is checked against its sha256 in the lock (--require-hashes) and
# installed as a wheel, so nothing runs code that was not pinned. locks/tools.txt
# (pip, setuptools, wheel) comes first: those pinned tools build the app itself and
# the few packages PyPI has only as source (SOURCE_ONLY, whose archives are pinned
# by hash too), with no other build tools fetched (--no-build-isolation).
set -euo pipefail
cd "$(dirname "$0")/.."
py="$1"
lock="$2"
SOURCE_ONLY=(proxy-tools)  # needed by pywebview; no wheel on PyPI
pip_install() {
    "$py" -m pip install --quiet --require-hashes --no-build-isolation \
        --only-binary :all: "${SOURCE_ONLY[@]/#/--no-binary=}" "$@"
}
pip_install -r locks/tools.txt
pip_install -r "$lock"
"$py" -m pip install --quiet --no-deps --no-build-isolation -e .
