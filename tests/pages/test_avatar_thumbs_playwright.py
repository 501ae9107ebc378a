"""The avatar pictures of the picker fit the theme: the pictures have no
background of their own (``scripts/avatar-thumbs.py``), the card behind them is
the theme's, so in the dark theme a picture is dark around the figure and in the
light theme light. Screenshots of Settings → Appearance in zh/en, dark and light,
go to ``$DL_SHOTS_DIR`` (default /tmp/dl-shots)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest

from frontend_helpers import SHOTS, choose_lang, require_chromium
from where import ROOT

require_chromium()

from PIL import Image  # noqa: E402
from playwright.sync_api import expect  # noqa: E402

MODELS = ("haru", "shizuku", "hijiki", "svg")


def _luma(rgb: tuple[int, ...]) -> float:
    return 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]


def test_the_pictures_have_no_background_of_their_own() -> None:
    for model in MODELS:
        img = Image.open(ROOT / "frontend" / "img" / "avatars" / f"{model}.png").convert("RGBA")
        w, h = img.size
        corners = [img.getpixel(p)[3] for p in ((0, 0), (w - 1, 0), (0, h // 3), (w - 1, h // 3))]
        assert corners == [0, 0, 0, 0], (model, corners)
        assert img.getpixel((w // 2, h // 3))[3] == 255, model  # the figure itself is there


@pytest.mark.parametrize("scheme", ["dark", "light"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_picker_cards_follow_the_theme(serve: Any, open_page: Any, lang: str,
                                           scheme: str) -> None:
    with serve() as url:
        o = open_page(url, lang=lang, color_scheme=scheme)
        page = o.page
        choose_lang(page, lang)  # a picture found before the redraw would be gone
        page.click("#nav-settings")
        page.click("#settings-tab-appearance")
        expect(page.locator("html")).to_have_attribute("data-theme", scheme)
        for model in MODELS:
            img = page.locator(f"#f-avatar-model-pick-{model} img")
            img.scroll_into_view_if_needed()
            expect(img).to_have_js_property("complete", True)
            assert img.evaluate("i => i.naturalWidth") > 0, model
            shot = Image.open(io.BytesIO(img.screenshot())).convert("RGB")
            corners = [_luma(shot.getpixel(p)) for p in ((2, 2), (shot.width - 3, 2))]
            if scheme == "dark":
                assert max(corners) < 90, (model, corners)  # no light box in the dark
            else:
                assert min(corners) > 200, (model, corners)
        row = page.locator("[data-path='avatar.model']")
        row.scroll_into_view_if_needed()
        SHOTS.mkdir(parents=True, exist_ok=True)
        row.screenshot(path=str(Path(SHOTS) / f"avatar-picker-{lang}-{scheme}.png"))
        o.check_clean()
