#!/usr/bin/env bash
# Build the one-folder bundle for this platform (Linux or macOS) with PyInstaller.
#
#   build/build.sh                  -> build/out/dist/dl-app/ (macOS also "Digital Life.app")
#   PYTHON=/path/to/python build/build.sh
#
# Needs the app and the "build" extra installed in that Python:
#   scripts/pip-locked.sh python locks/build.txt   (or: pip install -e '.[build]')
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
OUT="$ROOT/build/out"
"$PYTHON" "$ROOT/build/icons/make_icons.py" >/dev/null
export QT_API=pyside6
# The Python modules in the executable's archive (PYZ) stored, not zlib-compressed: the
# .deb's xz packs plain bytecode far better than zlib output (PyInstaller's own knob).
export PYINSTALLER_ZLIB_COMPRESSION_LEVEL="${PYINSTALLER_ZLIB_COMPRESSION_LEVEL:-0}"
# The licence of everything the bundle ships (About shows it) and its SBOM.
mkdir -p "$OUT"
"$PYTHON" -m dl_app.notices > "$OUT/THIRD_PARTY_NOTICES.txt"
"$PYTHON" -m cyclonedx_py environment --of JSON -o "$OUT/sbom.cdx.json" "$PYTHON"
"$PYTHON" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$OUT/dist" --workpath "$OUT/work" "$ROOT/build/dl-app.spec"
# Strip debug symbols from the ELF files that still carry them, except the libraries
# auditwheel vendored (numpy.libs/, pillow.libs/...): strip breaks their patched
# headers ("ELF load command address/offset not page-aligned").
if [ "$(uname)" = Linux ] && command -v strip >/dev/null; then
  find "$OUT/dist/dl-app" -type f \( -name '*.so*' -o -name 'QtWebEngineProcess' \) \
    -not -path '*.libs/*' -print0 |
    while IFS= read -r -d '' f; do
      case "$(file -b "$f")" in  # not `file | grep -q`: SIGPIPE under pipefail
        *ELF*"not stripped"*) strip --strip-unneeded "$f" || true ;;
      esac
    done
fi
# pyarrow's substrait library (4.3 MB; 1.2 MiB of the .deb): every pyarrow module and
# library lists it as needed, yet none but pyarrow._substrait (left out by the spec) uses
# a symbol of it (nm: none of their undefined symbols is defined there), so the entry
# goes (build/drop_needed.py) and so does the library. The selftest's engine check
# loads pyarrow through LanceDB.
INTERNAL="$OUT/dist/dl-app/_internal"
if [ "$(uname)" = Linux ]; then
  for lib in "$INTERNAL"/pyarrow/libarrow_substrait.so.*; do
    [ -f "$lib" ] || continue
    name="$(basename "$lib")"
    find "$INTERNAL/pyarrow" -type f -name '*.so*' -print0 |
      xargs -0 "$PYTHON" "$ROOT/build/drop_needed.py" "$name" >/dev/null
    rm -f "$lib" "$INTERNAL/$name" "$INTERNAL"/pyarrow/_substrait.*.so
  done
fi
# Qt Core's ICU data (32 MB; 7.2 MiB of the .deb) cut to what Qt can reach in this app:
# collation, time zone names, the app's languages, the Chinese legacy encodings (1 MiB;
# build/trim_icu.py says what goes and why; the selftest's "qt text" check uses them).
if [ "$(uname)" = Linux ]; then
  for lib in "$INTERNAL"/PySide6/Qt/lib/libicudata.so.*; do
    [ -f "$lib" ] && [ ! -L "$lib" ] || continue
    "$PYTHON" "$ROOT/build/trim_icu.py" "$lib"
  done
fi
# pdfminer's CJK character maps as stored gzip, so that xz packs their content (5.0 ->
# 0.7 MiB of the .deb; build/store_gzip.py). The selftest reads a Chinese PDF with them.
if [ -d "$INTERNAL/pdfminer/cmap" ]; then
  find "$INTERNAL/pdfminer/cmap" -name '*.json.gz' -print0 |
    xargs -0 "$PYTHON" "$ROOT/build/store_gzip.py"
fi
du -sh "$OUT/dist/dl-app"
echo "bundle: $OUT/dist/dl-app/dl-app"
