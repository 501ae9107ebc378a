"""Pictures from an OpenAI-compatible ``/images/generations`` endpoint, over httpx.

The answer may carry the picture inline (``b64_json``) or as a ``url`` to
download; either way the bytes must be a PNG, JPEG or WebP image. Failures
become ``dl_app.core.errors`` errors with messages fit for the user.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import httpx

from dl_app.core.errors import BadResponse, ServiceError, msg
from dl_app.messages import shown_url

from .documents import sniff_picture
from .service_errors import probe_http, server_detail, status_error, unreachable, what_text

__all__ = ["OpenAIImageMaker", "sniff_image"]

_WHAT = "image service"
MAX_IMAGE_BYTES = 10 * 1024 * 1024


def sniff_image(data: bytes) -> str | None:
    """The MIME type of PNG, JPEG or WebP bytes, else None (no GIF from an image service)."""
    mime = sniff_picture(data)
    return None if mime == "image/gif" else mime


class OpenAIImageMaker:
    """An ``ImageMaker`` for an OpenAI-compatible images endpoint."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        model: str,
        size: str = "512x512",
        *,
        timeout: float = 120.0,
        http_client: httpx.Client | None = None,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._shown = shown_url(self._base_url)  # in messages and logs: no key in it
        self._api_key = api_key
        self._model = model
        self._size = size
        self._client = http_client or httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)), follow_redirects=True
        )

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}

    def _post(self, body: dict[str, Any]) -> Any:
        url = self._base_url + "/images/generations"
        try:
            resp = self._client.post(url, json=body, headers=self._headers())
        except httpx.HTTPError as e:
            raise unreachable(self._base_url, e, _WHAT) from e
        if resp.status_code != 200:
            try:
                detail = server_detail(resp.json(), self._api_key)
            except ValueError:
                detail = server_detail(resp.text, self._api_key)
            raise status_error(
                resp.status_code, detail, what=_WHAT, base_url=self._base_url,
                model=self._model or None,
            )
        try:
            return resp.json()
        except ValueError as e:
            raise BadResponse(msg("image.not_json", what=what_text(_WHAT), url=self._shown)) from e

    def _download(self, url: str) -> bytes:
        try:
            resp = self._client.get(url)
        except httpx.HTTPError as e:
            raise unreachable(url, e, "picture download") from e
        if resp.status_code != 200:
            raise ServiceError(msg("image.download_failed", status=resp.status_code))
        return resp.content

    def make(self, prompt: str) -> tuple[bytes, str]:
        body: dict[str, Any] = {
            "prompt": prompt, "size": self._size, "response_format": "b64_json", "n": 1,
        }
        if self._model:
            body["model"] = self._model
        answer = self._post(body)
        data = answer.get("data") if isinstance(answer, dict) else None
        item = data[0] if isinstance(data, list) and data else None
        if not isinstance(item, dict):
            raise BadResponse(msg("image.none", what=what_text(_WHAT), url=self._shown))
        if isinstance(item.get("b64_json"), str):
            try:
                raw = base64.b64decode(item["b64_json"], validate=True)
            except (binascii.Error, ValueError) as e:
                raise BadResponse(msg("image.not_base64", what=what_text(_WHAT))) from e
        elif isinstance(item.get("url"), str) and item["url"].startswith(("http://", "https://")):
            raw = self._download(item["url"])
        else:
            raise BadResponse(msg("image.no_data", what=what_text(_WHAT), url=self._shown))
        if len(raw) > MAX_IMAGE_BYTES:
            raise BadResponse(msg("image.too_large", what=what_text(_WHAT)))
        mime = sniff_image(raw)
        if mime is None:
            raise BadResponse(msg("image.not_picture", what=what_text(_WHAT)))
        return raw, mime

    def probe(self) -> None:
        """Whether the service answers at all (``GET /models``; see ``probe_http``)."""
        probe_http(self._client, self._base_url + "/models", what=_WHAT, secret=self._api_key,
                   headers=self._headers())

    def close(self) -> None:
        self._client.close()
