"""Current weather from QWeather (和风天气), as one line for the system prompt.

``GET {base}/v7/weather/now?location={lon},{lat}&key={key}``; a city name is
first resolved with ``GET {geo_base}/v2/city/lookup?location={name}&key={key}``.
A result is cached for 30 minutes; a failure is cached briefly (so a dead
service does not slow every message) and kept as ``status()["error"]``.
Nothing here ever raises to the chat: ``lines()`` returns ``[]`` on failure.
"""

from __future__ import annotations

import re
import threading
from typing import TYPE_CHECKING, Any

from ..core.errors import Text, msg
from ..core.ports import Clock
from ..messages import render, say

if TYPE_CHECKING:
    import httpx

__all__ = [
    "CACHE_MS", "DEFAULT_BASE", "DEFAULT_GEO_BASE", "FAIL_RETRY_MS", "QWeather",
    "WeatherError", "format_line",
]

DEFAULT_BASE = "https://devapi.qweather.com"
DEFAULT_GEO_BASE = "https://geoapi.qweather.com"
CACHE_MS = 30 * 60 * 1000  # 30 minutes (1,800,000 ms)
FAIL_RETRY_MS = 5 * 60 * 1000
_LONLAT = re.compile(r"^\s*(-?\d{1,3}(?:\.\d+)?)\s*,\s*(-?\d{1,2}(?:\.\d+)?)\s*$")


class WeatherError(Exception):
    """The weather could not be fetched; its ``Text`` (``args[0]``) says why."""


def _v(now: dict[str, Any], key: str) -> str:
    value = now.get(key)
    return "?" if value is None or value == "" else str(value)


def format_line(now: dict[str, Any], lang: str, place: str = "") -> str:
    """QWeather's ``now`` object as one line in ``lang``."""
    if lang == "zh":
        text = (
            f"{_v(now, 'text')}，气温 {_v(now, 'temp')}°C（体感 {_v(now, 'feelsLike')}°C），"
            f"{_v(now, 'windDir')} {_v(now, 'windSpeed')} km/h，湿度 {_v(now, 'humidity')}%，"
            f"过去一小时降水 {_v(now, 'precip')} mm，能见度 {_v(now, 'vis')} km"
        )
        return f"{place}：{text}" if place else text
    text = (
        f"{_v(now, 'text')}, {_v(now, 'temp')}°C (feels like {_v(now, 'feelsLike')}°C), "
        f"wind {_v(now, 'windDir')} {_v(now, 'windSpeed')} km/h, "
        f"humidity {_v(now, 'humidity')}%, precipitation {_v(now, 'precip')} mm "
        f"in the past hour, visibility {_v(now, 'vis')} km"
    )
    return f"{place}: {text}" if place else text


def _problem(response: httpx.Response) -> str:
    """Why QWeather refused, from either error shape (v7 ``code`` or v2 ``error``)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    detail = ""
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            detail = str(err.get("detail") or err.get("title") or "")
        elif body.get("code"):
            detail = f"code {body['code']}"
    hint = " (check the QWeather API key)" if response.status_code in (401, 403) else ""
    return f"HTTP {response.status_code}{': ' + detail if detail else ''}{hint}"


class QWeather:
    """The weather at one configured place (a city name or ``lon,lat``)."""

    def __init__(
        self,
        *,
        key: str,
        location: str,
        lang: str,
        clock: Clock,
        base: str = DEFAULT_BASE,
        geo_base: str = DEFAULT_GEO_BASE,
        enabled: bool = True,
        timeout: float = 5.0,
    ) -> None:
        self.key = key.strip()
        self.location = location.strip()
        self.lang = "zh" if lang == "zh" else "en"
        self.clock = clock
        self.base = (base or DEFAULT_BASE).rstrip("/")
        self.geo_base = (geo_base or DEFAULT_GEO_BASE).rstrip("/")
        self.enabled = enabled
        self.timeout = timeout
        self._lock = threading.Lock()
        self._place: tuple[str, str] | None = None  # ("lon,lat", display name)
        self._line: str | None = None
        self._error: Text | str | None = None
        self._checked_at: int | None = None

    @property
    def active(self) -> bool:
        return self.enabled and bool(self.key) and bool(self.location)

    # -- the world line -----------------------------------------------------

    def current(self) -> str | None:
        """The weather line (cached), or None when off or failing."""
        if not self.active:
            return None
        with self._lock:
            now = self.clock.now_ms()
            if self._checked_at is not None:
                age = now - self._checked_at
                if self._line is not None and 0 <= age < CACHE_MS:
                    return self._line
                if self._line is None and 0 <= age < FAIL_RETRY_MS:
                    return None
            try:
                line, error = self._fetch(), None
            except WeatherError as e:
                line, error = None, e.args[0]
            except Exception as e:  # never let the weather break a turn
                line, error = None, msg("weather.failed", error=f"{type(e).__name__}: {e}")
            self._line, self._error, self._checked_at = line, error, now
            return line

    def refresh(self) -> None:
        """Forget the cached line or failure: the next ``current`` asks the service."""
        with self._lock:
            self._checked_at = None

    def lines(self) -> list[str]:
        line = self.current()
        return [line] if line else []

    def status(self) -> dict[str, Any]:
        """``{enabled, ok, line, error, checked_at}`` for the settings page."""
        if not self.enabled:
            return {"enabled": False, "ok": False, "line": None, "error": None,
                    "checked_at": None}
        if not self.key:
            return {"enabled": True, "ok": False, "line": None,
                    "error": say(self.lang, "weather.no_key"), "checked_at": None}
        if not self.location:
            return {"enabled": True, "ok": False, "line": None,
                    "error": say(self.lang, "weather.no_location"), "checked_at": None}
        line = self.current()
        return {"enabled": True, "ok": line is not None, "line": line,
                "error": None if self._error is None else render(self._error, self.lang),
                "checked_at": self._checked_at}

    # -- requests -----------------------------------------------------------

    def _get(self, url: str, params: dict[str, str]) -> dict[str, Any]:
        import httpx  # only when the weather is on: the app starts without it

        try:
            with httpx.Client(timeout=self.timeout, trust_env=False) as client:
                response = client.get(url, params=params)
        except httpx.TimeoutException as e:
            raise WeatherError(msg("weather.timeout", seconds=self.timeout)) from e
        except httpx.HTTPError as e:
            raise WeatherError(msg("weather.unreachable", error=str(e))) from e
        if response.status_code != 200:
            raise WeatherError(msg("weather.refused", detail=_problem(response)))
        try:
            body = response.json()
        except ValueError as e:
            raise WeatherError(msg("weather.not_json")) from e
        if not isinstance(body, dict):
            raise WeatherError(msg("weather.not_object"))
        code = str(body.get("code", "200"))
        if code != "200":
            key = "weather.code_key" if code in ("401", "402", "403") else "weather.code"
            raise WeatherError(msg(key, code=code))
        return body

    def _resolve(self) -> tuple[str, str]:
        if self._place is not None:
            return self._place
        match = _LONLAT.match(self.location)
        if match:
            self._place = (f"{match.group(1)},{match.group(2)}", "")
            return self._place
        body = self._get(
            f"{self.geo_base}/v2/city/lookup",
            {"location": self.location, "key": self.key, "lang": self.lang, "number": "1"},
        )
        found = body.get("location")
        if not isinstance(found, list) or not found or not isinstance(found[0], dict):
            raise WeatherError(msg("weather.no_place", place=self.location))
        city = found[0]
        lon, lat = city.get("lon"), city.get("lat")
        if lon is None or lat is None:
            raise WeatherError(msg("weather.no_coordinates"))
        self._place = (f"{lon},{lat}", str(city.get("name") or self.location))
        return self._place

    def _fetch(self) -> str:
        where, name = self._resolve()
        body = self._get(
            f"{self.base}/v7/weather/now",
            {"location": where, "key": self.key, "lang": self.lang},
        )
        now = body.get("now")
        if not isinstance(now, dict) or "temp" not in now:
            raise WeatherError(msg("weather.no_current"))
        return format_line(now, self.lang, name)
