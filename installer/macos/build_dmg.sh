#!/usr/bin/env bash
# Package "Digital Life.app" (made by build/build.sh on macOS) into a .dmg with hdiutil.
# Never run yet: unverified on Windows/macOS.
#
#   build/build.sh && installer/macos/build_dmg.sh
#   -> build/out/DigitalLife-<version>.dmg
#
# The image holds the app and a link to /Applications (drag to install). Unsigned:
# sign and notarize with your Developer ID for distribution
# (codesign --deep --options runtime ...; xcrun notarytool submit ...).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
APP="${1:-$ROOT/build/out/dist/Digital Life.app}"
OUT="${2:-$ROOT/build/out}"
[ -d "$APP" ] || { echo "no app bundle at $APP (run build/build.sh on macOS)" >&2; exit 1; }
VERSION="${DL_VERSION:-$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$ROOT/src/dl_app/__init__.py")}"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
mkdir -p "$OUT"
DMG="$OUT/DigitalLife-$VERSION.dmg"
rm -f "$DMG"
hdiutil create -volname "Digital Life" -srcfolder "$STAGE" -fs HFS+ -format UDZO \
  -imagekey zlib-level=9 -ov "$DMG" >/dev/null
echo "$DMG"
