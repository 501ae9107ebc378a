"""Third-party notices: the licence of everything the app ships, generated.

``third_party_notices()`` is plain text: the demo models' attribution with the
Apache-2.0 text, the vendored JavaScript (pixi, pixi-live2d-display, the Live2D
runtime and models) from the licence files in ``frontend/``, and every Python
package the app needs at run time — found by walking ``dl-app``'s requirements
in the installed packages' metadata (markers and extras evaluated here) — with
the licence files each package ships. Nothing is hand-written but the model
attribution.

A bundle carries the text generated at build time (``build/build.sh`` runs
``python -m dl_app.notices``) as ``dl_app/THIRD_PARTY_NOTICES.txt``, since a
frozen app has no package metadata to read; About shows it (bridge method
``about_notices``).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .paths import frontend_dir

__all__ = ["python_packages", "third_party_notices"]

HERE = Path(__file__).resolve().parent
BUNDLED = HERE / "THIRD_PARTY_NOTICES.txt"
LICENCE_FILE = re.compile(r"(^|/)(LICEN[CS]E|COPYING|NOTICE|AUTHORS)[^/]*$", re.IGNORECASE)
RULE = "=" * 78


def python_packages(root: str = "dl-app") -> list[metadata.Distribution]:
    """The installed distributions ``root`` needs at run time (itself excluded),
    sorted by name: its requirements, theirs, and so on, for this platform."""
    env = {k: str(v) for k, v in default_environment().items()}
    seen: dict[str, metadata.Distribution] = {}
    todo: list[tuple[str, frozenset[str]]] = [(root, frozenset())]
    done: set[tuple[str, frozenset[str]]] = set()
    while todo:
        name, extras = todo.pop()
        if (name, extras) in done:
            continue
        done.add((name, extras))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional package not installed on this platform
        key = canonicalize_name(dist.metadata["Name"])
        if key != canonicalize_name(root):
            seen[key] = dist
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is not None and not any(
                req.marker.evaluate({**env, "extra": extra}) for extra in (extras or {""})
            ):
                continue
            todo.append((canonicalize_name(req.name), frozenset(req.extras)))
    return [seen[k] for k in sorted(seen)]


def meta_field(meta: Any, name: str) -> str | None:
    """One field of a package's metadata, or None (``PackageMetadata`` has no
    ``get`` in its declared interface; ``get_all`` is)."""
    values = meta.get_all(name)
    return str(values[0]) if values else None


def _licence_name(dist: metadata.Distribution) -> str:
    meta = dist.metadata
    expression = meta_field(meta, "License-Expression")
    if expression:
        return expression
    declared = (meta_field(meta, "License") or "").strip()
    if declared and "\n" not in declared and len(declared) <= 80:
        return declared
    classifiers = [
        c.split(" :: ")[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")
    ]
    return ", ".join(classifiers) or "see the licence text"


def _licence_texts(dist: metadata.Distribution) -> Iterator[tuple[str, str]]:
    for file in dist.files or []:
        path = str(file)
        if ".dist-info/" in path and LICENCE_FILE.search(path):
            try:
                where = Path(str(dist.locate_file(file)))
                text = where.read_text(encoding="utf-8", errors="replace")
            except OSError:
                continue
            yield path.split(".dist-info/", 1)[1], text.strip()


def _section(title: str, body: str) -> str:
    return f"{RULE}\n{title}\n{RULE}\n{body.strip()}\n"


def _javascript(frontend: Path) -> Iterator[str]:
    vendor = frontend / "vendor"
    for path in sorted(vendor.glob("LICENSE*")) + sorted(vendor.glob("*NOTICE*")):
        yield _section(f"frontend/vendor/{path.name}", path.read_text(encoding="utf-8"))
    models = frontend / "models"
    for path in [models / "LICENSES.md", *sorted(models.glob("*/NOTICE.txt"))]:
        if path.is_file():
            rel = path.relative_to(frontend).as_posix()
            yield _section(f"frontend/{rel}", path.read_text(encoding="utf-8"))


def _python() -> Iterator[str]:
    for dist in python_packages():
        meta = dist.metadata
        head = f"{meta['Name']} {dist.version} — {_licence_name(dist)}"
        home = meta_field(meta, "Home-page") or next(
            (u.split(",", 1)[1].strip() for u in meta.get_all("Project-URL") or []), ""
        )
        texts = [f"--- {name} ---\n{text}" for name, text in _licence_texts(dist)]
        body = "\n\n".join([home, *texts] if home else texts) or "(no licence file shipped)"
        yield _section(head, body)


def generate(frontend: Path | None = None) -> str:
    """The notices, generated from what is installed here."""
    licences = HERE / "licenses"
    parts = [
        "Digital Life — third-party notices\n\n"
        "Digital Life ships or installs the software and models below; each is "
        "under its own licence, reproduced here.\n",
        _section(
            "Demo models",
            (licences / "qwen2.5-coder.txt").read_text(encoding="utf-8")
            + "\n\n"
            + (licences / "Apache-2.0.txt").read_text(encoding="utf-8"),
        ),
        *_javascript(frontend or frontend_dir()),
        *_python(),
    ]
    return "\n".join(parts)


def third_party_notices() -> str:
    """The bundled notices when this is a built app, else generated now."""
    if BUNDLED.is_file():
        return BUNDLED.read_text(encoding="utf-8")
    return generate()


if __name__ == "__main__":  # build/build.sh: python -m dl_app.notices > FILE
    sys.stdout.write(generate())
