"""Which optional services the health watch asks, and how (issue 18, "degraded,
not dead"): pictures, reading aloud (TTS), a transcription service (STT) and
the S3 bucket of the backups, each only when the user set it up (a service
nobody configured is not "limited").

Each probe is cheap and short (``PROBE_TIMEOUT``): an HTTP service gets one
``GET`` of its base or ``/models`` address, the bucket one ``head_bucket``.
Only an outage counts (``core.health.outage``: unreachable, timed out, 5xx);
a wrong key answers, so the service is there and using it says what is wrong.
The embedder and the weather are watched in ``wiring``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .adapters.secrets import SecretStore
from .adapters.service_errors import PROBE_TIMEOUT
from .core.errors import DLError
from .core.health import PICTURES, S3, STT, TTS, Health, WatchedImages, outage
from .core.ports import ImageMaker
from .settings import BackupSettings, Settings, VoiceSettings

__all__ = ["reachable", "report", "tts_set_up", "watch_desktop", "watch_pictures"]


def reachable(probe: Callable[[], object]) -> Callable[[], None]:
    """``probe`` that raises only when the service is not there."""

    def ask() -> None:
        try:
            probe()
        except DLError as e:
            if outage(e):
                raise

    return ask


def watch_pictures(images: ImageMaker | None, health: Health) -> ImageMaker | None:
    """The image service (when set up) reporting to ``health``, which asks it again
    while it is down."""
    if images is None:
        return None
    watched = WatchedImages(images, health)
    health.watch(PICTURES, reachable(watched.probe))
    return watched


def watch_desktop(health: Health, settings: Settings, secrets: SecretStore) -> list[str]:
    """Watch the services the page uses besides the memory's (speech both ways,
    the backup bucket), those that are set up; returns their names."""
    probes = {
        TTS: _tts_probe(settings.voice, secrets),
        STT: _stt_probe(settings.voice, secrets),
        S3: _s3_probe(settings.backup, secrets),
    }
    watched = []
    for service, probe in probes.items():
        if probe is not None:
            health.watch(service, reachable(probe))
            watched.append(service)
    return watched


def tts_set_up(v: VoiceSettings) -> bool:
    url = {"f5": v.f5_url, "fish": v.fish_url}.get(v.tts_provider, v.openai_tts_url)
    return v.tts_enabled and bool(url.strip())


def _tts_probe(v: VoiceSettings, secrets: SecretStore) -> Callable[[], None] | None:
    if not tts_set_up(v):
        return None
    from .adapters.tts import make_synth

    def probe() -> None:
        with make_synth(v, secrets.get("tts_api_key"), None, timeout=PROBE_TIMEOUT) as synth:
            synth.probe()

    return probe


def _stt_probe(v: VoiceSettings, secrets: SecretStore) -> Callable[[], None] | None:
    if v.stt_provider != "openai" or not v.stt_url.strip():
        return None
    from .adapters.stt import OpenAITranscriber

    def probe() -> None:
        with OpenAITranscriber(v.stt_url, secrets.get("stt_api_key"), v.stt_model,
                               timeout=PROBE_TIMEOUT) as stt:
            stt.probe()

    return probe


def _s3_probe(b: BackupSettings, secrets: SecretStore) -> Callable[[], None] | None:
    keys = [secrets.get(n) for n in ("s3_access_key", "s3_secret_key")]
    if not b.bucket.strip() or not all(keys):
        return None
    from .backup import BackupService

    def probe() -> None:
        BackupService(b, secrets, timeout=PROBE_TIMEOUT, max_attempts=1).probe()

    return probe


def report(health: Health | None, service: str) -> Any:
    """A context manager for one use of ``service``: how it went goes to ``health``."""
    return _Use(health, service)


class _Use:
    def __init__(self, health: Health | None, service: str) -> None:
        self._health = health
        self._service = service

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, error: BaseException | None, _tb: object) -> None:
        if self._health is None:
            return
        if error is None:
            self._health.used(self._service, None)
        elif isinstance(error, DLError):
            self._health.used(self._service, error)
