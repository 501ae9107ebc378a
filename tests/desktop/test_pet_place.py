"""Where the desktop pet opens: one place per screen (``desktop/pet_place.py``), the
choosing and the pulling inside a screen without a window, then through the desktop
(``Desktop`` on the fake pywebview of ``test_tray.py``; the real Qt screens:
``test_pet_window.py`` under Xvfb)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_tray import make_desktop

from dl_app.bridge import Api
from dl_app.desktop.pet_place import (
    MAX_PLACES,
    PlacedScreen,
    choose,
    clamp,
    remember,
    screens_of,
)

PET = (320, 440)


class QtLikeScreen:
    """What pywebview's Qt backend gives: geometry, and the ``QScreen`` as ``frame``."""

    class _Frame:
        def __init__(self, name: str) -> None:
            self._name = name

        def name(self) -> str:
            return self._name

    def __init__(self, name: str | None, x: int, y: int, w: int, h: int) -> None:
        self.x, self.y, self.width, self.height = x, y, w, h
        self.frame: Any = self._Frame(name) if name is not None else None


LAPTOP = QtLikeScreen("eDP-1", 0, 0, 1920, 1080)
MONITOR = QtLikeScreen("HDMI-1", 1920, 0, 2560, 1440)


def test_screens_are_known_by_name_else_by_geometry() -> None:
    got = screens_of([LAPTOP, QtLikeScreen(None, 1920, 0, 1280, 1024), object(),
                      QtLikeScreen("eDP-1", 0, 1080, 800, 600)])
    assert [s.key for s in got] == ["eDP-1", "1280x1024+1920+0", "eDP-1 800x600+0+1080"]
    assert got[0] == PlacedScreen("eDP-1", 0, 0, 1920, 1080)
    assert screens_of(None) == []


def test_a_place_is_remembered_per_screen_relative_to_it() -> None:
    screens = screens_of([LAPTOP, MONITOR])
    places, key = remember({}, 100, 200, screens, PET)
    assert key == "eDP-1" and places == {"eDP-1": [100, 200]}
    places, key = remember(places, 2400, 300, screens, PET)  # on the monitor
    assert key == "HDMI-1" and places == {"eDP-1": [100, 200], "HDMI-1": [480, 300]}
    # Half over the edge: the screen under the pet's middle counts.
    places, key = remember(places, 1920 - 100, 50, screens, PET)
    assert key == "HDMI-1" and places["HDMI-1"] == [-100, 50]
    assert remember(places, 1920 - 200, 50, screens, PET)[1] == "eDP-1"
    assert list(places) == ["eDP-1", "HDMI-1"]
    assert remember(places, 5, 5, [], PET) == (places, None)


def test_remembered_screens_are_capped_oldest_first() -> None:
    places: dict[str, list[int]] = {}
    for i in range(MAX_PLACES + 3):
        screen = PlacedScreen(f"S{i}", 0, 0, 1000, 1000)
        places, _ = remember(places, i, i, [screen], PET)
    assert len(places) == MAX_PLACES and "S0" not in places and f"S{MAX_PLACES + 2}" in places


def test_the_pet_opens_on_the_screen_where_it_was_last() -> None:
    screens = screens_of([LAPTOP, MONITOR])
    places = {"eDP-1": [100, 200], "HDMI-1": [480, 300]}
    assert choose(places, "HDMI-1", screens, PET) == (1920 + 480, 300)
    assert choose(places, "eDP-1", screens, PET) == (100, 200)
    # The monitor moved to the left of the laptop in the layout: same place on it.
    moved = screens_of([QtLikeScreen("eDP-1", 2560, 0, 1920, 1080),
                        QtLikeScreen("HDMI-1", 0, 0, 2560, 1440)])
    assert choose(places, "HDMI-1", moved, PET) == (480, 300)


def test_a_smaller_screen_pulls_the_pet_inside() -> None:
    small = screens_of([QtLikeScreen("HDMI-1", 1920, 0, 1024, 600), LAPTOP])
    places = {"HDMI-1": [2000, 1200]}
    x, y = choose(places, "HDMI-1", small, PET) or (0, 0)
    assert (x, y) == (1920 + 1024 - 320, 600 - 440)
    # Smaller than the pet itself: its top-left corner stays on the screen.
    tiny = PlacedScreen("tiny", 10, 20, 200, 300)
    assert clamp(50, 50, tiny, PET) == (10, 20)
    assert clamp(-500, -500, PlacedScreen("a", 0, 0, 1000, 1000), PET) == (0, 0)


def test_a_gone_screen_falls_back_to_a_known_place_or_into_the_first_screen() -> None:
    laptop_only = screens_of([LAPTOP])
    # The monitor is gone; the laptop has a place of its own.
    assert choose({"HDMI-1": [480, 300], "eDP-1": [100, 200]}, "HDMI-1", laptop_only,
                  PET) == (100, 200)
    # No place on the laptop: the monitor's offset, pulled inside the laptop's screen.
    assert choose({"HDMI-1": [2000, 900]}, "HDMI-1", laptop_only, PET) == (1920 - 320, 1080 - 440)
    # Nothing usable remembered: the bottom right, clear of a task bar.
    for places, last in (({}, None), ({"HDMI-1": "junk"}, "HDMI-1"), ({}, "HDMI-1")):
        assert choose(places, last, laptop_only, PET) == (1920 - 320 - 24, 1080 - 440 - 64)
    assert choose({"eDP-1": [1, 2]}, "eDP-1", [], PET) is None


# -- through the desktop -----------------------------------------------------------------


class NamedScreen:
    """A screen as pywebview's Qt backend gives it: the ``QScreen`` is its ``frame``."""

    def __init__(self, name: str, x: int, y: int, w: int, h: int) -> None:
        self.x, self.y, self.width, self.height = x, y, w, h
        self.frame = type("QScreenLike", (), {"name": lambda _self: name})()


def test_the_place_is_kept_per_screen(api: Api, data_dir: Path, tmp_path: Path) -> None:
    """Left on the monitor, the pet comes back there; with the monitor unplugged it
    opens on the laptop, where it was left before."""
    laptop = NamedScreen("eDP-1", 0, 0, 1920, 1080)
    monitor = NamedScreen("HDMI-1", 1920, 0, 2560, 1440)
    desk, web = make_desktop(api, tmp_path)
    web.screens = [laptop, monitor]
    saved: list[dict[str, Any]] = []
    desk._save_app = saved.append
    desk.set_pet(True)
    for x, y in ((100, 200), (2400, 300)):  # left on the laptop, then on the monitor
        desk._save_pet_place(x, y)
    assert desk.app_settings.pet_screen == "HDMI-1"
    assert saved[-1]["pet_places"] == [{"screen": "eDP-1", "x": 100, "y": 200},
                                       {"screen": "HDMI-1", "x": 480, "y": 300}]
    app = desk.app_settings.model_dump()
    for screens, expected in (([laptop, monitor], (2400, 300)), ([laptop], (100, 200)),
                              ([NamedScreen("HDMI-1", 0, 0, 1024, 600)], (480, 600 - 440))):
        again, web2 = make_desktop(api, tmp_path, **app)
        web2.screens = screens
        again.set_pet(True)
        assert (web2.windows[1].kwargs["x"], web2.windows[1].kwargs["y"]) == expected, screens
