"""The selftest's Live2D check: the runtimes and bundled models a bundle must ship."""

from __future__ import annotations

import shutil
from pathlib import Path

from dl_app.desktop.selfcheck import live2d_files
from dl_app.paths import frontend_dir


def _copy_front(tmp_path: Path) -> Path:
    front = tmp_path / "frontend"
    shutil.copytree(frontend_dir(), front)
    return front


def test_the_repo_frontend_has_every_live2d_file() -> None:
    needed, missing = live2d_files(frontend_dir())
    assert missing == []
    assert "vendor/live2dcubismcore.min.js" in needed
    assert "models/haru/haru_greeter_t03.moc3" in needed
    assert any(n.startswith("models/shizuku/") and n.endswith(".png") for n in needed)


def test_a_missing_texture_or_runtime_is_named(tmp_path: Path) -> None:
    front = _copy_front(tmp_path)
    (front / "models/haru/haru_greeter_t03.2048/texture_01.png").unlink()
    (front / "vendor/pixi6.min.js").unlink()
    _needed, missing = live2d_files(front)
    assert missing == ["vendor/pixi6.min.js", "models/haru/haru_greeter_t03.2048/texture_01.png"]


def test_a_missing_loader_leaves_the_runtimes_unnamed(tmp_path: Path) -> None:
    front = _copy_front(tmp_path)
    (front / "js/avatar/loader.js").unlink()
    needed, missing = live2d_files(front)
    assert missing == ["js/avatar/loader.js"]
    assert not any(n.startswith("vendor/") for n in needed)


def test_the_documents_check_reads_every_attachment_type(tmp_path: Path) -> None:
    # The selftest's own PDF and Word samples are files the converters read (the bundle
    # leaves out Pillow, pdfium and magika, and this is how it proves it does not miss them).
    from dl_app.desktop import selfcheck

    assert selfcheck._documents(tmp_path) == "markitdown (HTML, Markdown, text, PDF, Word)"
    pdf, docx = tmp_path / "a.pdf", tmp_path / "a.docx"
    pdf.write_bytes(selfcheck._pdf("Invoice 4711", "发票 数字生命"))
    docx.write_bytes(selfcheck._docx("Minutes 数字生命"))
    from dl_app.adapters.documents import convert_document

    # The Chinese line comes out through pdfminer's CJK character maps (a predefined
    # CMap, no font embedded): the bundle stores them differently (build/store_gzip.py).
    assert convert_document(pdf).split() == ["Invoice", "4711", "发票", "数字生命"]
    assert "Minutes 数字生命" in convert_document(docx)
