"""The main window's loading state, painted by Qt with the window's first frame.

The page draws its own loading state ("Starting…" beside a spinner, ``#boot-loading``)
only once Qt WebEngine has started a renderer and loaded the page and its styles:
about half a second after the window appears. Until then :func:`cover` lays a native
widget over the web view that draws the same thing in the same place and colours
(``frontend/css/app.css``: ``.boot-loading`` centred in the main area, below the
52-px top bar, left of the avatar panel of ``clamp(200px, 28vw, 420px)``, hidden
below 800 px). It goes away once the page has painted (``early.js`` marks
``<html data-painted>`` two animation frames after it started; asked every
``POLL_MS``): not at ``loadFinished``, which comes before the page's first frame is
on the screen (a blank flash, seen in the screen grabs).

Qt only (Linux); the other platforms' web views paint the window's background colour.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

log = logging.getLogger(__name__)

# The page's colours (``frontend/css/app.css``; a test keeps them equal).
COLOURS = {
    "light": {"bg": "#f5f6f8", "muted": "#667085", "border": "#d9dde5", "accent": "#3f6fd8"},
    "dark": {"bg": "#15171c", "muted": "#9aa3b2", "border": "#363b46", "accent": "#6c95ef"},
}
TOPBAR = 52  # .topbar height
FOOTER = 5  # the footer while it is still empty
SPINNER = 18  # .boot-spinner: 18 px, a 2-px ring
GAP = 10  # .boot-loading gap
FONT_PX = 15  # .boot-loading font-size
POLL_MS = 30  # how often the page is asked whether it has painted
GIVE_UP_MS = 10_000  # after loadFinished: a page that never says so is shown anyway
# Asked from the start: before the page exists there is no documentElement.
PAINTED = "(document.documentElement && document.documentElement.dataset.painted) || ''"


def text_centre(width: int, height: int) -> tuple[float, float]:
    """Where the page centres its loading state in a ``width`` x ``height`` window."""
    avatar = 0 if width < 800 else min(max(200, 0.28 * width), 420)
    return (width - avatar) / 2, TOPBAR + (height - TOPBAR - FOOTER) / 2


def cover(window: Any, theme: str, text: str) -> Any:
    """Lay the loading state over pywebview's Qt ``window`` (its ``native``
    ``BrowserView``) until the page has loaded; returns the widget, or None where
    there is no Qt window (call on the GUI thread: pywebview's ``before_show``)."""
    native = getattr(window, "native", None)
    view = getattr(native, "webview", None)
    if native is None or view is None or not callable(getattr(view, "page", None)):
        return None
    try:
        widget = _make(native, COLOURS["dark" if theme == "dark" else "light"], text)
        _watch(widget, view.page())
    except Exception:  # a nicety: the page shows its own loading state anyway
        log.exception("the native loading state failed")
        return None
    return widget


def _watch(widget: Any, page: Any) -> None:
    """Remove ``widget`` once ``page`` says it has painted (or failed to load, or
    ``GIVE_UP_MS`` after it loaded without saying so)."""
    from qtpy.QtCore import QTimer

    state = {"gone": False}

    def remove() -> None:
        if state["gone"]:
            return
        state["gone"] = True
        timer.stop()
        with contextlib.suppress(RuntimeError):  # already deleted with its window
            # The window stops sending its events to the cover first, so none can
            # reach it while Qt deletes it (an intermittent "Internal C++ object
            # (Cover) already deleted" was seen once; not reproduced since).
            widget.parentWidget().removeEventFilter(widget)
            widget.hide()
            widget.deleteLater()

    def answer(value: Any) -> None:
        if value == "1":
            remove()

    def ask() -> None:
        with contextlib.suppress(RuntimeError):
            page.runJavaScript(PAINTED, 0, answer)

    def loaded(ok: bool) -> None:
        if not ok:
            remove()  # an error page: nothing of ours to wait for
        else:
            QTimer.singleShot(GIVE_UP_MS, widget, remove)

    timer = QTimer(widget)
    timer.setInterval(POLL_MS)
    timer.timeout.connect(ask)
    timer.start()
    page.loadFinished.connect(loaded)


def _make(host: Any, colours: dict[str, str], text: str) -> Any:
    from qtpy.QtCore import QEvent, QObject, QRectF, Qt
    from qtpy.QtGui import QColor, QFont, QPainter, QPen
    from qtpy.QtWidgets import QWidget

    class Cover(QWidget):
        """Over the whole window (a child of the main window, so above the web view
        and the renderer's widget that Qt adds inside it later)."""

        def __init__(self, parent: Any) -> None:
            super().__init__(parent)
            self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            self.setObjectName("dl-loading")
            self.setAccessibleName(text)
            self.setGeometry(parent.rect())
            parent.installEventFilter(self)
            font = QFont(self.font())
            font.setPixelSize(FONT_PX)
            self._font = font

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Resize:
                self.setGeometry(obj.rect())  # type: ignore[attr-defined]
            return False

        def paintEvent(self, _event: Any) -> None:
            painter = QPainter(self)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            painter.fillRect(self.rect(), QColor(colours["bg"]))
            painter.setFont(self._font)
            width = painter.fontMetrics().horizontalAdvance(text)
            cx, cy = text_centre(self.width(), self.height())
            left = cx - (SPINNER + GAP + width) / 2
            ring = QRectF(left + 1, cy - SPINNER / 2 + 1, SPINNER - 2, SPINNER - 2)
            painter.setPen(QPen(QColor(colours["border"]), 2))
            painter.drawEllipse(ring)
            painter.setPen(QPen(QColor(colours["accent"]), 2))
            painter.drawArc(ring, 45 * 16, 90 * 16)  # the spinner's coloured top
            painter.setPen(QColor(colours["muted"]))
            box = QRectF(left + SPINNER + GAP, cy - FONT_PX, width + 2, 2 * FONT_PX)
            painter.drawText(box, int(Qt.AlignmentFlag.AlignVCenter), text)
            painter.end()

    widget = Cover(host)
    widget.raise_()
    widget.show()
    return widget
