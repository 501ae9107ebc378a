#!/usr/bin/env bash
# Build the Linux package and test it, as CI does (.ci/run calls this after the tests):
# a build venv from locks/build.txt (.venv-build), the one-folder bundle
# (build/build.sh), the .deb (installer/linux/build_deb.sh), then
# build/selftest_bundle.sh: the .deb unpacked into a scratch root and the installed
# app's `window --selftest` run under Xvfb (first start cold). Prints each step's
# time, the sizes, the biggest parts of the bundle and the .deb's control fields.
# Then the same .deb installed with apt into a Debian 13 root and self-tested there
# (build/selftest_debian13.sh). Any failed step fails the script.
#
#   scripts/ci-package.sh          PYTHON=python3.12 scripts/ci-package.sh
#   DEB_XZ=preset=1,dict=32MiB ... other xz options for data.tar.xz (build_deb.sh)
#   DEB_MAX_MB=340 ...             the .deb's size limit (selftest_bundle.sh checks it)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
VENV="$ROOT/.venv-build"
PY="${PYTHON:-python3}"
step() { echo "ci-package: $1 in $((SECONDS - t)) s"; t=$SECONDS; }
t=$SECONDS
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
stamp="$VENV/.installed-build"
if [ ! -f "$stamp" ] || [ "$ROOT/locks/build.txt" -nt "$stamp" ] || [ "$ROOT/pyproject.toml" -nt "$stamp" ]; then
    "$ROOT/scripts/pip-locked.sh" "$VENV/bin/python" "$ROOT/locks/build.txt"
    touch "$stamp"
fi
step "build venv ready"
rm -f "$ROOT"/build/out/digital-life_*.deb
PYTHON="$VENV/bin/python" nice "$ROOT/build/build.sh"
step "bundle built"
DEB="$(PYTHON="$VENV/bin/python" nice "$ROOT/installer/linux/build_deb.sh")"
step ".deb built (xz ${DEB_XZ_BCJ---x86} ${DEB_XZ:-preset=6,dict=32MiB})"
dpkg-deb -f "$DEB" Package Version Architecture Maintainer Installed-Size Depends
echo "biggest parts of the bundle (MB):"
(cd "$ROOT/build/out/dist/dl-app/_internal" && du -sm -- * | sort -rn | sed -n 1,8p | sed 's/^/    /')
SKIP_BUILD=1 RUNS="${RUNS:-2}" "$ROOT/build/selftest_bundle.sh"
step "installed into a scratch root and self-tested"
if [ "${DL_CI_NO_DEBIAN13:-}" != 1 ]; then
  "$ROOT/build/selftest_debian13.sh"
  step "installed with apt on Debian 13 and self-tested there"
fi
echo "ci-package: ${SECONDS} s in all"
