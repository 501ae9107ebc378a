"""``Memory``'s part for the companion speaking first: the greeting after an
absence, the check-ins about follow-ups (``core/checkin.py``) and the follow-ups
themselves (``core/followups.py``). Use it through ``Memory``."""

from __future__ import annotations

from .core import greeting
from .core.checkin import CheckinRules, recent
from .core.engine import MemoryEngine
from .core.errors import NotFound, msg
from .core.models import DiaryEntry, FollowUp, Message
from .settings import Settings
from .wiring import App

__all__ = ["PresencePart", "checkin_rules"]


def _minutes(hhmm: str) -> int:
    h, _, m = hhmm.partition(":")
    return int(h) * 60 + int(m)


def checkin_rules(settings: Settings) -> CheckinRules:
    p = settings.plugins
    return CheckinRules(enabled=p.checkins_enabled, per_day=p.checkins_per_day,
                        quiet_start=_minutes(p.quiet_start), quiet_end=_minutes(p.quiet_end))


class PresencePart:
    _app: App
    _engine: MemoryEngine

    def greet(self, after_hours: float | None = None, *, checkin_only: bool = False
              ) -> Message | None:
        """A greeting when the user comes back after ``after_hours`` (default: the
        ``plugins.greet_after_hours`` setting), or a check-in about a due follow-up
        when check-ins are on; else None. ``checkin_only``: no greeting (the app
        asks while it runs)."""
        s = self._app.settings
        hours = s.plugins.greet_after_hours if after_hours is None else after_hours
        return greeting.greet(self._engine, hours, checkin_rules(s), checkin_only=checkin_only)

    def follow_ups(self, entry: str | None = None) -> list[FollowUp]:
        """The follow-ups noted in the diary (or in one entry), oldest first."""
        return self._app.state.follow_ups(entry)

    def delete_follow_up(self, follow_id: str) -> None:
        with self._engine.lock:
            if not self._app.state.delete_follow_up(follow_id):
                raise NotFound(msg("memory.no_follow_up"))

    def recent_checkins(self, n: int = 5) -> list[tuple[FollowUp, DiaryEntry | None]]:
        """The latest check-ins shown, newest first, each with the entry it came from."""
        return recent(self._engine, n)
