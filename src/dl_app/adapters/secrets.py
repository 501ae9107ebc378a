"""API keys: from ``DL_*`` environment variables, else the OS keyring.

Keys never go to the settings file. A machine without a usable keyring
backend (headless Linux picks keyring's ``fail`` backend) simply has no stored
keys; environment variables still work.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

SERVICE = "DigitalLife"

ENV_NAMES = {"llm_api_key": "DL_LLM_API_KEY", "embed_api_key": "DL_EMBED_API_KEY"}


def get_secret(name: str, env: Mapping[str, str] | None = None) -> str:
    env = os.environ if env is None else env
    value = env.get(ENV_NAMES.get(name, ""), "")
    if value:
        return value
    try:
        import keyring

        return keyring.get_password(SERVICE, name) or ""
    except Exception:  # no backend, locked keyring, D-Bus missing: no stored key
        return ""
