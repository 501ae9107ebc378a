#!/usr/bin/env bash
# Rebuild frontend/vendor/ (Live2D runtime + pixi) and frontend/models/ (bundled
# models) from `npm pack` of pinned versions. Each tarball's sha512 is checked
# against the pin below before anything is copied.
#
#   scripts/vendor-live2d.sh           write the files into frontend/
#   scripts/vendor-live2d.sh --check   rebuild into a temp dir and compare with
#                                      frontend/ byte for byte (exit 1 on any difference)
#
# Needs: npm (registry reachable), tar, openssl or sha512sum + base64.
# What each file is and its licence: frontend/vendor/README.md, frontend/models/LICENSES.md.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

declare -A PIN=(
  [pixi.js@6.5.10]="sha512-Z2mjeoISml2iuVwT1e/BQwERYM2yKoiR08ZdGrg8y5JjeuVptfTrve4DbPMRN/kEDodesgQZGV/pFv0fE9Q2SA=="
  [pixi-live2d-display@0.4.0]="sha512-xeYC6y4Y0Bxe9ksWNlGFZC1rII/MPrzPQK7t1c3ubA8RhkOISIqHJl38fNumXqhGEs+yItmgDOkFT+9dsyGDjA=="
  [live2dcubismcore@1.0.2]="sha512-nABJjQb6XqzQ6JDWINtu8w9a1wTHvmxh85FafeIJ6xwUTFP+TVhq81dTeB2VKLesDyIuZ7CZ1X/Vi8nin3PSIA=="
  [live2d-widget-model-shizuku@1.0.5]="sha512-keEQR1Bm7HILLjNSIpmg1SGuo4H/ZsGRxnBn0l0BxgEbaHlmEE+Jb5nwhAtnh7PN/SRFE3+Ddk/ciy18sT7rAw=="
  [live2d-widget-model-hijiki@1.0.5]="sha512-1htA3VPgqw5mvs94qHVqy56MjmF1huBXst1SsgphNyeWuZT3aH87I0sF1Ene7WDkyEPnMeR+pX1bJxWa524snA=="
)

CHECK=0
[ "${1:-}" = "--check" ] && CHECK=1

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
OUT="$WORK/out"
mkdir -p "$OUT/vendor" "$OUT/models"

sha512_b64() { openssl dgst -sha512 -binary "$1" | base64 | tr -d '\n'; }

unpack() {  # unpack NAME@VERSION -> prints the package dir
  local spec=$1 dir="$WORK/${1//[@\/]/_}"
  mkdir -p "$dir"
  local tgz
  tgz=$(cd "$dir" && npm pack "$spec" --silent 2>/dev/null | tail -1)
  local got="sha512-$(sha512_b64 "$dir/$tgz")"
  if [ "$got" != "${PIN[$spec]}" ]; then
    echo "checksum mismatch for $spec: got $got" >&2
    exit 1
  fi
  tar xzf "$dir/$tgz" -C "$dir"
  echo "$dir/package"
}

PIXI=$(unpack pixi.js@6.5.10)
PL2D=$(unpack pixi-live2d-display@0.4.0)
CORE=$(unpack live2dcubismcore@1.0.2)
SHIZ=$(unpack live2d-widget-model-shizuku@1.0.5)
HIJI=$(unpack live2d-widget-model-hijiki@1.0.5)

# -- runtime scripts (loaded as classic <script>s by frontend/js/avatar/loader.js)
cp "$PIXI/dist/browser/pixi.min.js" "$OUT/vendor/pixi6.min.js"
cp "$PIXI/LICENSE" "$OUT/vendor/LICENSE.pixi.js.txt"
cp "$PL2D/dist/index.min.js" "$OUT/vendor/pixi-live2d-display-0.4.0.min.js"
cp "$PL2D/LICENSE" "$OUT/vendor/LICENSE.pixi-live2d-display.txt"
cp "$CORE/live2dcubismcore.min.js" "$OUT/vendor/live2dcubismcore.min.js"
cp "$CORE/live2d.min.js" "$OUT/vendor/live2d.min.js"

# -- models: runtime files only (no PSD / cmo3 / can3)
mkdir -p "$OUT/models/haru"
cp -r "$CORE/characters/haru_greeter_pro_jp/runtime/." "$OUT/models/haru/"
cp "$CORE/characters/haru_greeter_pro_jp/ReadMe.txt" "$OUT/models/haru/ReadMe.txt"
mkdir -p "$OUT/models/shizuku" "$OUT/models/hijiki"
cp -r "$SHIZ/assets/." "$OUT/models/shizuku/"
cp -r "$HIJI/assets/." "$OUT/models/hijiki/"

# -- hand-written files kept in the tree (notices, READMEs, per-model maps)
for f in vendor/README.md vendor/LIVE2D-NOTICE.txt models/LICENSES.md \
         models/haru/avatar.json models/shizuku/avatar.json models/hijiki/avatar.json \
         models/shizuku/NOTICE.txt models/hijiki/NOTICE.txt; do
  if [ -f "$REPO/frontend/$f" ]; then
    cp "$REPO/frontend/$f" "$OUT/$f"
  fi
done

if [ "$CHECK" = 1 ]; then
  status=0
  for d in vendor models; do
    diff -r "$OUT/$d" "$REPO/frontend/$d" || status=1
  done
  if [ "$status" = 0 ]; then
    echo "frontend/vendor and frontend/models are byte-identical to the pinned npm packages"
  fi
  exit $status
fi

rm -rf "$REPO/frontend/vendor" "$REPO/frontend/models"
cp -r "$OUT/vendor" "$OUT/models" "$REPO/frontend/"
du -sh "$REPO/frontend/vendor" "$REPO/frontend/models"
