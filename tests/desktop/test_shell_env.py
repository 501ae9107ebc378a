"""The variables the window's GUI backend reads at import time."""

from __future__ import annotations

from dl_app.desktop.environment import prepare_env


def test_linux_uses_qt_with_autoplay_and_keeps_user_flags() -> None:
    env = {"QTWEBENGINE_CHROMIUM_FLAGS": "--enable-logging"}
    assert prepare_env(env, platform="linux", euid=1000) == "qt"
    assert env["QT_API"] == "pyside6"
    assert env["QTWEBENGINE_CHROMIUM_FLAGS"] == (
        "--enable-logging --autoplay-policy=no-user-gesture-required"
    )
    assert "QTWEBENGINE_DISABLE_SANDBOX" not in env
    prepare_env(env, platform="linux", euid=1000)  # a second call adds nothing
    assert env["QTWEBENGINE_CHROMIUM_FLAGS"].count("--autoplay-policy") == 1


def test_root_disables_the_sandbox_and_a_user_autoplay_choice_wins() -> None:
    env = {"QTWEBENGINE_CHROMIUM_FLAGS": "--autoplay-policy=user-gesture-required"}
    assert prepare_env(env, platform="linux", euid=0) == "qt"
    assert env["QTWEBENGINE_DISABLE_SANDBOX"] == "1"
    assert env["QTWEBENGINE_CHROMIUM_FLAGS"] == "--autoplay-policy=user-gesture-required"


def test_windows_and_macos_use_their_native_webview() -> None:
    for platform in ("win32", "darwin"):
        env: dict[str, str] = {}
        assert prepare_env(env, platform=platform) is None
        assert "QTWEBENGINE_CHROMIUM_FLAGS" not in env
