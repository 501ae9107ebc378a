"""THIRD_PARTY_NOTICES is generated from what is installed: every package the app
needs at run time with its licence files, the vendored JavaScript's licences, and
the demo models' attribution with the Apache-2.0 text."""

from __future__ import annotations

from importlib import metadata

from packaging.markers import Marker
from packaging.utils import canonicalize_name
from test_locks import PLATFORMS, read_lock

from dl_app import notices


def test_every_runtime_package_of_the_lock_is_in_the_notices_with_its_licence() -> None:
    text = notices.generate()
    linux = next(env for env in PLATFORMS if env["sys_platform"] == "linux")
    build_tools = {"pip", "setuptools", "wheel"}  # locks/tools.in: not shipped
    listed = {canonicalize_name(d.metadata["Name"]) for d in notices.python_packages()}
    for name, _version, marker, _ in read_lock("app.txt"):
        if name in build_tools or (marker and not Marker(marker).evaluate(linux)):
            continue
        assert name in listed, f"{name} (locks/app.txt) missing from the notices"
        dist = metadata.distribution(name)
        assert f"{dist.metadata['Name']} {dist.version} — " in text
    # Licence files are reproduced, not only named.
    section = text.split("\nmammoth ", 1)[1].split("=" * 78, 2)[1]
    assert "--- licenses/LICENSE ---" in section or "--- LICENSE ---" in section, section[:300]
    assert "Redistribution and use in source and binary forms" in section  # its BSD text


def test_the_models_and_the_javascript_are_credited() -> None:
    text = notices.generate()
    assert "Qwen2.5-Coder-0.5B-Instruct" in text and "Alibaba Cloud" in text
    assert "TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION" in text  # Apache-2.0
    for name in ("LICENSE.pixi.js.txt", "LICENSE.pixi-live2d-display.txt", "LIVE2D-NOTICE.txt"):
        assert f"frontend/vendor/{name}" in text
    assert "frontend/models/LICENSES.md" in text


def test_a_bundle_shows_the_notices_generated_at_build_time(tmp_path, monkeypatch) -> None:
    bundled = tmp_path / "THIRD_PARTY_NOTICES.txt"
    bundled.write_text("generated at build time", encoding="utf-8")
    monkeypatch.setattr(notices, "BUNDLED", bundled)
    assert notices.third_party_notices() == "generated at build time"
