#!/usr/bin/env bash
# Package the Linux bundle (build/build.sh) as a .deb with dpkg-deb.
#
#   installer/linux/build_deb.sh [BUNDLE_DIR] [OUT_DIR]
#     BUNDLE_DIR  default build/out/dist/dl-app
#     OUT_DIR     default build/out
#   DL_VERSION, DEB_MAINTAINER override the version and the Maintainer field.
#   DEB_XZ_LEVEL sets the xz level (default 1: measured on 2 cores, -z6 took over
#   16 minutes for the ~860 MB bundle, -z1 far less for a slightly larger file).
#   The Maintainer field otherwise comes from pyproject.toml ([project] maintainers,
#   else authors): "name <email>", or the name alone when no email is given there.
#
# Installs to /opt/digital-life, links /usr/bin/dl-app to it, and adds the menu entry
# (/usr/share/applications/digital-life.desktop) and the icon (hicolor 256 px + SVG).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
BUNDLE="${1:-$ROOT/build/out/dist/dl-app}"
OUT="${2:-$ROOT/build/out}"
PYTHON="${PYTHON:-python3}"
[ -x "$BUNDLE/dl-app" ] || { echo "no bundle at $BUNDLE (run build/build.sh)" >&2; exit 1; }
VERSION="${DL_VERSION:-$(sed -n 's/^__version__ = "\(.*\)"/\1/p' "$ROOT/src/dl_app/__init__.py")}"
ARCH="$(dpkg --print-architecture)"
MAINTAINER="${DEB_MAINTAINER:-$("$PYTHON" - "$ROOT/pyproject.toml" <<'PY'
import sys
import tomllib

with open(sys.argv[1], "rb") as f:
    project = tomllib.load(f)["project"]
people = project.get("maintainers") or project.get("authors") or []
if not people or not people[0].get("name"):
    sys.exit("pyproject.toml names no maintainer ([project] maintainers or authors)")
who = people[0]
print(f"{who['name']} <{who['email']}>" if who.get("email") else who["name"])
PY
)}"
# getconf, not `ldd --version | head -1`: under pipefail ldd's SIGPIPE failed the build.
GLIBC="$(getconf GNU_LIBC_VERSION | grep -o '[0-9]*\.[0-9]*$')"
STAGE="$(mktemp -d)"
trap 'rm -rf "$STAGE"' EXIT

mkdir -p "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
  "$STAGE/usr/share/icons/hicolor/256x256/apps" "$STAGE/usr/share/icons/hicolor/scalable/apps" \
  "$STAGE/DEBIAN"
cp -a "$BUNDLE" "$STAGE/opt/digital-life"
ln -s ../../opt/digital-life/dl-app "$STAGE/usr/bin/dl-app"  # relative: works in any root
install -m 0644 "$ROOT/installer/linux/digital-life.desktop" "$STAGE/usr/share/applications/"
install -m 0644 "$ROOT/build/icons/icon-256.png" \
  "$STAGE/usr/share/icons/hicolor/256x256/apps/digital-life.png"
install -m 0644 "$ROOT/build/icons/icon.svg" \
  "$STAGE/usr/share/icons/hicolor/scalable/apps/digital-life.svg"
chmod -R u+rwX,go+rX,go-w "$STAGE"

SIZE_KB="$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)"
cat > "$STAGE/DEBIAN/control" <<CONTROL
Package: digital-life
Version: $VERSION
Architecture: $ARCH
Maintainer: $MAINTAINER
Installed-Size: $SIZE_KB
Depends: libc6 (>= $GLIBC), libegl1, libgl1, libxkbcommon-x11-0, libxcb-cursor0, libxcb-icccm4, libxcb-keysyms1, libnss3
Recommends: fonts-noto-cjk
Section: utils
Priority: optional
Description: Digital Life (数字生命), a companion that remembers
 A desktop companion with long-term memory: a self-concept, a profile of
 you, a running summary and a searchable diary. Talks to any
 OpenAI-compatible model (ollama by default).
CONTROL

mkdir -p "$OUT"
DEB="$OUT/digital-life_${VERSION}_${ARCH}.deb"
# xz: about a third smaller than gzip for Qt WebEngine and the native libraries.
dpkg-deb --root-owner-group -Zxz "-z${DEB_XZ_LEVEL:-1}" --build "$STAGE" "$DEB" >/dev/null
echo "$DEB"
