#!/usr/bin/env bash
# Install the newest build/out/*.deb on Debian 13 (trixie) and run its selftest there:
# a minimal trixie root (debootstrap), `apt-get install ./the.deb` inside it (apt
# resolves the Depends from trixie's archive: the t64 package names of
# installer/linux/depends.txt), then `dl-app window --selftest` under Xvfb in it. The
# bundle then runs on trixie's glibc 2.41 and its system libraries instead of the build
# machine's.
#
#   build/selftest_debian13.sh            (root; needs debootstrap, mount, chroot and
#                                          deb.debian.org; about 3 minutes, 600 MB)
#   SUITE=forky build/selftest_debian13.sh  another Debian release
#
# scripts/ci-package.sh runs it after the selftest here (DL_CI_NO_DEBIAN13=1 skips it).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SUITE="${SUITE:-trixie}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
DEB="$(ls -t "$ROOT"/build/out/digital-life_*.deb | sed -n 1p)"
[ -f "$DEB" ] || { echo "no .deb in build/out (scripts/ci-package.sh builds one)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "needs debootstrap (apt install debootstrap)" >&2; exit 1; }
TARGET="$(mktemp -d)"
cleanup() {
  for m in tmp sys dev proc; do umount "$TARGET/$m" 2>/dev/null || true; done
  rm -rf --one-file-system "$TARGET"
}
trap cleanup EXIT
debootstrap --variant=minbase "$SUITE" "$TARGET" "$MIRROR" >/dev/null
mount --bind /proc "$TARGET/proc"
mount --bind /dev "$TARGET/dev"
mount --bind /sys "$TARGET/sys"
mount -t tmpfs none "$TARGET/tmp"
cp /etc/resolv.conf "$TARGET/etc/resolv.conf"
# minbase has no /etc/hosts: pywebview finds no free port without "localhost".
[ -f "$TARGET/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' > "$TARGET/etc/hosts"
cp "$DEB" "$TARGET/tmp/"
if ! chroot "$TARGET" env DEBIAN_FRONTEND=noninteractive bash -c "
    apt-get update -qq && apt-get install -y -qq /tmp/$(basename "$DEB") xvfb xauth" \
    >"$TARGET/tmp/apt.log" 2>&1; then
  tail -20 "$TARGET/tmp/apt.log" >&2
  echo "FAIL: apt could not install $(basename "$DEB") on Debian $SUITE" >&2
  exit 1
fi
echo "installed $(basename "$DEB") on Debian $(cat "$TARGET/etc/debian_version") with apt"
chroot "$TARGET" bash -c '
  Xvfb :77 -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 & xvfb=$!
  trap "kill $xvfb" EXIT
  sleep 1
  DISPLAY=:77 DL_DATA_DIR="$(mktemp -d)" dl-app window --selftest --timeout 60 \
    2>/tmp/selftest.err | sed "s/^/    /"
  code=${PIPESTATUS[0]}
  [ "$code" = 0 ] || tail -20 /tmp/selftest.err >&2
  exit "$code"'
echo "selftest on Debian $SUITE: ok"
