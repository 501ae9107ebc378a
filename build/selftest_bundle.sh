#!/usr/bin/env bash
# Build the Linux bundle and the .deb, install the .deb into a scratch root, run the
# installed app's --selftest under Xvfb, and print the figures: bundle size, .deb size,
# window-ready times (cold = first start after install; caches dropped when allowed).
#
#   build/selftest_bundle.sh               build, package, install, selftest
#   SKIP_BUILD=1 build/selftest_bundle.sh  use the newest build/out/*.deb
#   RUNS=3                                 selftest starts (default 3)
#   DEB_MAX_MB=N                           fail when the .deb is over N MB (10^6 bytes)
#
# Not part of the test suite (a build takes minutes); CI runs it in build.yml.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
RUNS="${RUNS:-3}"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  "$ROOT/build/build.sh"
  "$ROOT/installer/linux/build_deb.sh" >/dev/null
fi
DEB="$(ls -t "$ROOT"/build/out/digital-life_*.deb | sed -n 1p)"
SCRATCH="$(mktemp -d)"
LOGS="$(mktemp -d)"
trap 'rm -rf "$SCRATCH" "$LOGS"' EXIT

dpkg -x "$DEB" "$SCRATCH"   # the package's files, as dpkg -i would place them
APP="$SCRATCH/usr/bin/dl-app"
[ "$(readlink -f "$APP")" = "$SCRATCH/opt/digital-life/dl-app" ] ||
  { echo "FAIL: /usr/bin/dl-app does not lead to /opt/digital-life/dl-app" >&2; exit 1; }
for f in usr/share/applications/digital-life.desktop \
         usr/share/icons/hicolor/256x256/apps/digital-life.png; do
  [ -f "$SCRATCH/$f" ] || { echo "FAIL: $f missing from the package" >&2; exit 1; }
done
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$SCRATCH/usr/share/applications/digital-life.desktop"
fi

mb() { awk -v b="$1" 'BEGIN { printf "%.1f MiB (%.1f MB)", b / 1048576, b / 1e6 }'; }
echo "package:            $DEB"
echo ".deb (xz):          $(mb "$(stat -c %s "$DEB")")"
echo "installed (/opt):   $(mb "$(du -sb "$SCRATCH/opt/digital-life" | cut -f1)")"
if [ -d "$ROOT/build/out/dist/dl-app" ]; then
  echo "bundle (build/out): $(mb "$(du -sb "$ROOT/build/out/dist/dl-app" | cut -f1)")"
fi
# The size limit, in MB as issue 14 sets it (250 MB): growth fails here, not at the next
# person who measures. The README says what each part costs.
DEB_MAX_MB="${DEB_MAX_MB:-250}"
if [ "$(stat -c %s "$DEB")" -gt $((DEB_MAX_MB * 1000000)) ]; then
  echo "FAIL: the .deb is $(mb "$(stat -c %s "$DEB")"), over the limit of $DEB_MAX_MB MB" >&2
  exit 1
fi

# One X server for all runs, so its start is not counted as the app's.
exec 3< <(Xvfb -displayfd 1 -screen 0 1280x800x24 -nolisten tcp 2>/dev/null & echo "pid $!")
XVFB_PID="" DISPLAY_NUM=""
for _ in 1 2; do  # "pid N" and the display number, in either order
  read -r first second <&3
  if [ "$first" = pid ]; then XVFB_PID="$second"; else DISPLAY_NUM="$first"; fi
done
trap 'kill "$XVFB_PID" 2>/dev/null; rm -rf "$SCRATCH" "$LOGS"' EXIT
export DISPLAY=":$DISPLAY_NUM"

status=0
for i in $(seq 1 "$RUNS"); do
  cold=""
  if [ "$i" = 1 ]; then
    sync
    if (echo 3 > /proc/sys/vm/drop_caches) 2>/dev/null; then cold=" (cold: page cache dropped)";
    else cold=" (first start after install; page cache not droppable here)"; fi
  fi
  data="$(mktemp -d)"
  start="$(date +%s.%N)"
  set +e
  env -u QT_QPA_PLATFORM -u WAYLAND_DISPLAY DL_DATA_DIR="$data" \
    "$APP" window --selftest --timeout 60 2>"$LOGS/stderr-$i.log" |
    while IFS= read -r line; do echo "$(date +%s.%N) $line"; done >"$LOGS/stdout-$i.log"
  rc="${PIPESTATUS[0]}"
  set -e
  end="$(date +%s.%N)"
  rm -rf "$data"
  ready_at="$(awk '/Window ready in/ { print $1; exit }' "$LOGS/stdout-$i.log")"
  app_says="$(grep -o 'Window ready in [0-9.]* s' "$LOGS/stdout-$i.log" || true)"
  if [ "$rc" != 0 ] || [ -z "$ready_at" ]; then
    echo "run $i: FAILED (exit $rc)"; cut -d' ' -f2- "$LOGS/stdout-$i.log"
    tail -20 "$LOGS/stderr-$i.log"; status=1; continue
  fi
  awk -v s="$start" -v r="$ready_at" -v e="$end" -v c="$cold" -v a="$app_says" -v i="$i" \
    'BEGIN { printf "run %d: window ready %.2f s after launch (app: %s), selftest done in %.2f s, exit 0%s\n", i, r - s, a, e - s, c }'
  if [ "$i" = 1 ]; then grep 'selfcheck:' "$LOGS/stdout-$i.log" | cut -d' ' -f2- | sed 's/^/    /'; fi
done
exit "$status"
