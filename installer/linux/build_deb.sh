#!/usr/bin/env bash
# Package the Linux bundle (build/build.sh) as a .deb with dpkg-deb.
#
#   installer/linux/build_deb.sh [BUNDLE_DIR] [OUT_DIR]
#     BUNDLE_DIR  default build/out/dist/dl-app
#     OUT_DIR     default build/out
#   DL_VERSION, DEB_MAINTAINER override the version and the Maintainer field.
#   DEB_XZ sets the xz (LZMA2) options of data.tar.xz, default "preset=6,dict=32MiB".
#   Measured on the whole bundle with the x86 filter below (892 MB, 2 threads, load
#   3-9): preset=1,dict=32MiB 302.4 MiB .deb, preset=6,dict=32MiB 274.7 MiB in 635 CPU s
#   (751 s wall at that load; about 320 s on 2 idle cores, estimated); on pyarrow + onnxruntime
#   (124 MB, one thread) presets 1/3/4/5/6 gave 31.6/31.1/28.8/28.1/28.0 MB in
#   18/69/71/75/91 CPU s. The 32 MiB dictionary (xz -6 has 8) keeps matches further
#   back in the 176-195 MB native libraries. DEB_XZ=preset=1,dict=32MiB is 4-5x faster.
#   dpkg-deb cannot set the dictionary, so the .deb
#   is put together here (ar: debian-binary, control.tar.xz, data.tar.xz, as dpkg-deb
#   does) and checked with dpkg-deb afterwards. Unpacking needs about 32 MiB of memory,
#   packing about 1.1 GB (xz's resident size with 2 threads, measured).
#   DEB_XZ_BLOCK_MIB, default half the data: the size of each xz block (see below).
#   DEB_XZ_BCJ, default "--x86": xz's branch filter before LZMA2 (call addresses made
#   relative, so repeated calls match); most of the bytes are x86-64 code. On pyarrow +
#   onnxruntime (124 MB, one thread): 34.4 MB in 21 CPU s without, 31.6 MB in 18 s with.
#   DEB_XZ_BCJ= (empty) turns it off.
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
# The packages whose libraries the bundle leaves out (build/dl-app.spec reads the same file).
DEPENDS="$(sed -e '/^#/d' -e '/^ *$/d' -e 's/:.*//' "$ROOT/installer/linux/depends.txt" | paste -sd, - | sed 's/,/, /g')"
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
Depends: libc6 (>= $GLIBC), $DEPENDS
Recommends: fonts-noto-cjk
Section: utils
Priority: optional
Description: Digital Life (数字生命), a companion that remembers
 A desktop companion with long-term memory: a self-concept, a profile of
 you, a running summary and a searchable diary. Talks to any
 OpenAI-compatible model (ollama by default).
CONTROL

mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"  # absolute: ar runs in another folder
DEB="$OUT/digital-life_${VERSION}_${ARCH}.deb"
PARTS="$(mktemp -d)"
trap 'rm -rf "$STAGE" "$PARTS"' EXIT
# Members as dpkg-deb writes them: owned by root, paths "./...", sorted names.
TAR=(tar --sort=name --owner=0 --group=0 --numeric-owner --format=gnu)
echo "2.0" > "$PARTS/debian-binary"
"${TAR[@]}" -C "$STAGE/DEBIAN" -cf - . | xz -9 > "$PARTS/control.tar.xz"
# Two blocks, one per thread: xz -T2 otherwise cuts the data into blocks of 3x the
# dictionary (9 of 96 MiB here), and each block starts with an empty dictionary.
BLOCK_MIB="${DEB_XZ_BLOCK_MIB:-$(( SIZE_KB / 2048 + 8 ))}"
"${TAR[@]}" -C "$STAGE" --exclude=./DEBIAN -cf - . |
  xz -T2 --block-size="${BLOCK_MIB}MiB" ${DEB_XZ_BCJ---x86} --lzma2="${DEB_XZ:-preset=6,dict=32MiB}" \
  > "$PARTS/data.tar.xz"
rm -f "$DEB"
(cd "$PARTS" && ar rcD "$DEB" debian-binary control.tar.xz data.tar.xz)
dpkg-deb --info "$DEB" >/dev/null  # a .deb dpkg reads, or fail here
dpkg-deb --contents "$DEB" >/dev/null
echo "$DEB"
