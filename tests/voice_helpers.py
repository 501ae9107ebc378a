"""Real speech for the voice tests: espeak-ng speaks, sox pads and resamples.

Both are Debian packages (``.ci/run`` installs them); without them the voice
tests that need spoken audio skip locally and fail on CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


def require_speech_tools() -> None:
    missing = [t for t in ("espeak-ng", "sox") if shutil.which(t) is None]
    if not missing:
        return
    if os.environ.get("CI"):
        raise RuntimeError(f"{', '.join(missing)} missing on CI")
    import pytest

    pytest.skip(f"{', '.join(missing)} not installed (apt-get install espeak-ng sox)",
                allow_module_level=True)


def spoken_wav(folder: Path, text: str, *, lead: float = 0.5, tail: float = 3.0,
               rate: int = 16_000, voice: str = "en") -> Path:
    """A mono 16-bit WAV of ``text`` spoken by espeak-ng, with ``lead`` seconds
    of silence before and ``tail`` after."""
    folder.mkdir(parents=True, exist_ok=True)
    raw = folder / "espeak.wav"
    out = folder / f"spoken-{abs(hash((text, lead, tail, rate)))}.wav"
    subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(raw), text], check=True)
    subprocess.run(
        ["sox", str(raw), "-r", str(rate), "-c", "1", "-b", "16", str(out),
         "pad", str(lead), str(tail)],
        check=True,
    )
    return out
