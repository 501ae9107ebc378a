"""The avatar in the real desktop window under Xvfb: an imported model's files reach
the page, which pywebview serves from ``frontend/``, through the bridge's loopback file
server (cross-origin, token in the path), and the avatar renders with it.

Needs Xvfb and PySide6 with QtWebEngine, like tests/desktop/test_window.py (whose helpers it uses).
"""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path

from test_window import (  # the window helpers and the Xvfb fixture
    DevTools,
    app_env,
    free_port,
    needs_display,
    running,
    wait_ready,
    xvfb,
)

from bridge_helpers import ok
from dl_app.bridge.api import Api
from servers.openai_compat import OpenAICompatServer
from where import FRONTEND

__all__ = ["xvfb"]

HARU = FRONTEND / "models" / "haru"


@needs_display
def test_imported_model_loads_in_the_window(
    xvfb: str, openai_server: OpenAICompatServer, tmp_path: Path
) -> None:
    data_dir = Path(os.environ["DL_DATA_DIR"])
    api = Api(data_dir)
    files = [
        {"path": f"Mine/{p.relative_to(HARU).as_posix()}",
         "data_base64": base64.b64encode(p.read_bytes()).decode()}
        for p in sorted(HARU.rglob("*")) if p.is_file()
    ]
    model = ok(api.avatar_import({"name": "Mine", "files": files}))["model"]
    ok(api.settings_set({"patch": {"avatar": {"model": model["id"]}}}))
    api.close()

    port = free_port()
    env = app_env(xvfb, openai_server, "en_US.UTF-8")
    env["QTWEBENGINE_REMOTE_DEBUGGING"] = f"127.0.0.1:{port}"
    # Xvfb has no GPU: let QtWebEngine's Chromium use SwiftShader for WebGL (without it
    # the page takes the no-WebGL fallback). With it the X screen grab of the window comes
    # out blank, so the canvas is read back inside the page instead.
    env["QTWEBENGINE_CHROMIUM_FLAGS"] = "--enable-unsafe-swiftshader --ignore-gpu-blocklist"
    log = tmp_path / "stderr.log"
    with running([], env, log) as (proc, lines):
        wait_ready(proc, lines, log)
        tools = DevTools(port)
        try:
            deadline = time.monotonic() + 60
            state = None
            while time.monotonic() < deadline:
                state = tools.evaluate(
                    "window.dlAvatar ? [dlAvatar.state, dlAvatar.reason, dlAvatar.model] : null"
                )
                if state and state[0] in ("live2d", "fallback"):
                    break
                time.sleep(0.5)
            fetched = tools.evaluate(
                "(async () => { const r = await pywebview.api.avatar_models();"
                f" const res = await fetch(r.files_base + {json.dumps(model['path'])});"
                " return [r.files_base, location.origin, res.status, (await res.json()).Version];"
                " })()"
            )
            time.sleep(1.0)
            # the drawn canvas read back in the page (preserveDrawingBuffer): luminance spread
            spread = tools.evaluate(
                "(() => { const c = document.querySelector('#avatar-area canvas');"
                " if (!c) return 0; const w = 120, h = 160;"
                " const t = document.createElement('canvas'); t.width = w; t.height = h;"
                " const g = t.getContext('2d'); g.fillStyle = '#fff'; g.fillRect(0, 0, w, h);"
                " g.drawImage(c, 0, 0, w, h); const d = g.getImageData(0, 0, w, h).data;"
                " let s = 0, s2 = 0, n = 0; for (let i = 0; i < d.length; i += 4) {"
                " const y = 0.3 * d[i] + 0.59 * d[i + 1] + 0.11 * d[i + 2];"
                " s += y; s2 += y * y; n += 1; } return Math.sqrt(s2 / n - (s / n) ** 2); })()"
            )
        finally:
            tools.close()
    files_base, origin, status, version = fetched
    assert files_base.startswith("http://127.0.0.1:") and not files_base.startswith(origin)
    assert (status, version) == (200, 3)  # cross-origin fetch allowed for the page
    assert state is not None and state[2] == model["id"], state
    assert state[0] == "live2d", state
    assert spread > 20, spread  # a drawn figure, not an empty canvas
