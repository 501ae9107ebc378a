"""An S3 bucket (AWS, R2, MinIO, any S3-compatible service) for backups, via boto3.

    store = S3Store(endpoint="https://...", region="auto", bucket="b",
                    access_key="...", secret_key="...")
    store.put("digital-life/memory-x.json", body, {"sha256": "..."}, progress)
    store.list("digital-life/")       # [ObjectInfo(key, size, at)]
    body, meta = store.get(key, progress)

SDK errors become ``dl_app.core.errors`` classes with messages for the user:
wrong keys -> ``AuthFailed``, missing bucket or object -> ``NotFound``,
refused / unreachable / timed out / cut off -> ``ServiceUnreachable``, other
answers -> ``ServerFailed``. Keys are never logged or put into messages.
A failed upload leaves no object (multipart uploads are aborted).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import botocore.exceptions as bce
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from ..core.errors import (
    AuthFailed,
    DLError,
    NotFound,
    ServerFailed,
    ServiceUnreachable,
    Text,
    msg,
)

__all__ = ["ObjectInfo", "S3Store"]

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int], None]
_AUTH = {
    "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken",
    "ExpiredToken", "AuthorizationHeaderMalformed", "InvalidSecurity", "Forbidden",
    "401", "403",
}
_MISSING_BUCKET = {"NoSuchBucket"}
_MISSING_KEY = {"NoSuchKey", "404", "NotFound"}
_NETWORK = (
    bce.EndpointConnectionError, bce.ConnectTimeoutError, bce.ReadTimeoutError,
    bce.ConnectionClosedError, bce.ResponseStreamingError, bce.IncompleteReadError,
    bce.ProxyConnectionError, bce.SSLError, bce.HTTPClientError,
)


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    at: int  # last modified, ms since the epoch
    metadata: dict[str, str] = field(default_factory=dict)


class S3Store:
    """One bucket. ``part_size`` is the multipart threshold and part size (bytes)."""

    def __init__(
        self,
        *,
        endpoint: str,
        region: str,
        bucket: str,
        access_key: str,
        secret_key: str,
        timeout: float = 30.0,
        part_size: int = 8 * 1024 * 1024,
        max_attempts: int = 3,
    ) -> None:
        self.bucket = bucket
        self.endpoint = endpoint or "AWS S3"
        config = Config(
            connect_timeout=min(timeout, 10.0),
            read_timeout=timeout,
            retries={"max_attempts": max_attempts, "mode": "standard"},
            s3={"addressing_style": "path" if endpoint else "auto"},
            # S3-compatible services (older MinIO, R2) reject the newer default checksums.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            user_agent_extra="digital-life",
        )
        session = boto3.session.Session(
            aws_access_key_id=access_key or None,
            aws_secret_access_key=secret_key or None,
            region_name=region or "us-east-1",
        )
        try:
            self._client = session.client("s3", endpoint_url=endpoint or None, config=config)
        except ValueError as e:  # e.g. an endpoint that is not a URL
            raise ServiceUnreachable(msg("s3.bad_endpoint", endpoint=endpoint, error=str(e))) from e
        self._transfer = TransferConfig(
            multipart_threshold=part_size, multipart_chunksize=part_size,
            max_concurrency=2, use_threads=True,
        )

    def close(self) -> None:
        self._client.close()

    # -- operations ------------------------------------------------------------

    def check(self) -> None:
        """Reach the bucket with these keys (raises a translated error)."""
        with self._translated("check"):
            self._client.head_bucket(Bucket=self.bucket)
            self._client.list_objects_v2(Bucket=self.bucket, MaxKeys=1)

    def probe(self) -> None:
        """Whether the bucket's service answers (one ``head_bucket``)."""
        with self._translated("check"):
            self._client.head_bucket(Bucket=self.bucket)

    def exists(self, key: str) -> bool:
        try:
            self.head(key)
        except NotFound:
            return False
        return True

    def head(self, key: str) -> ObjectInfo:
        with self._translated("read", key):
            r = self._client.head_object(Bucket=self.bucket, Key=key)
        return ObjectInfo(key, int(r["ContentLength"]), _ms(r["LastModified"]),
                          dict(r.get("Metadata") or {}))

    def list(self, prefix: str) -> list[ObjectInfo]:
        out: list[ObjectInfo] = []
        with self._translated("list"):
            pages = self._client.get_paginator("list_objects_v2")
            for page in pages.paginate(Bucket=self.bucket, Prefix=prefix):
                for o in page.get("Contents", []):
                    out.append(ObjectInfo(o["Key"], int(o["Size"]), _ms(o["LastModified"])))
        return out

    def put(
        self, key: str, body: bytes, metadata: dict[str, str],
        progress: ProgressFn | None = None,
    ) -> None:
        """Upload ``body`` (multipart above ``part_size``), reporting bytes sent."""
        total = len(body)
        sent = 0
        step = progress or (lambda _d, _t: None)

        def callback(n: int) -> None:
            nonlocal sent
            sent = min(sent + n, total)
            step(sent, total)

        step(0, total)
        with self._translated("upload", key):
            self._client.upload_fileobj(
                io.BytesIO(body), self.bucket, key,
                ExtraArgs={"Metadata": metadata, "ContentType": "application/json"},
                Callback=callback, Config=self._transfer,
            )
        step(total, total)

    def get(self, key: str, progress: ProgressFn | None = None,
            max_bytes: int | None = None) -> tuple[bytes, dict[str, str]]:
        """The object's bytes and metadata, reporting bytes received."""
        step = progress or (lambda _d, _t: None)
        with self._translated("download", key):
            r = self._client.get_object(Bucket=self.bucket, Key=key)
            total = int(r.get("ContentLength") or 0)
            if max_bytes is not None and total > max_bytes:
                r["Body"].close()
                raise ServerFailed(msg("s3.too_large", key=key, mb=total / 1e6))
            step(0, total)
            chunks: list[bytes] = []
            done = 0
            for chunk in r["Body"].iter_chunks(256 * 1024):
                chunks.append(chunk)
                done += len(chunk)
                step(min(done, total), total)
            if done != total:
                raise ServiceUnreachable(msg("s3.cut", key=key, done=done, total=total))
        return b"".join(chunks), dict(r.get("Metadata") or {})

    # -- errors ----------------------------------------------------------------

    @contextmanager
    def _translated(self, action: str, key: str = "") -> Iterator[None]:
        """SDK errors as ours; ``action``: a ``s3.doing.*`` key (check, read, ...)."""
        doing = msg(f"s3.doing.{action}")
        where = msg("s3.where", endpoint=self.endpoint, bucket=repr(self.bucket))
        v: dict[str, Any] = {"doing": doing, "where": where, "bucket": repr(self.bucket),
                             "endpoint": self.endpoint, "key": repr(key)}
        try:
            yield
        except DLError:
            raise
        except bce.ClientError as e:
            err = e.response.get("Error", {})
            code = str(err.get("Code", ""))
            status = str(e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
            log.info("S3 %s failed: %s %s", doing, code, status)
            if code in _AUTH or status in ("401", "403"):
                raise AuthFailed(msg("s3.refused", code=code or status, **v)) from None
            if code in _MISSING_BUCKET or (status == "404" and not key):
                raise NotFound(msg("s3.no_bucket", **v)) from None
            if code in _MISSING_KEY:
                raise NotFound(msg("s3.no_backup", **v)) from None
            said = str(err.get("Message", ""))
            raise ServerFailed(msg("s3.answered", code=code or status, said=said, **v)) from None
        except bce.NoCredentialsError:
            raise AuthFailed(msg("s3.no_keys", **v)) from None
        except _NETWORK as e:
            log.info("S3 %s failed: %s", action, type(e).__name__)
            raise ServiceUnreachable(msg("s3.network", why=_network_reason(e), **v)) from None
        except bce.BotoCoreError as e:
            raise ServerFailed(msg("s3.sdk", error=str(e), **v)) from None
        except OSError as e:  # a socket error that botocore did not wrap
            why = str(e.strerror or e)
            raise ServiceUnreachable(msg("s3.connection", why=why, **v)) from None


def _network_reason(e: Exception) -> Text:
    if isinstance(e, bce.EndpointConnectionError):
        return msg("s3.why.unreachable")
    if isinstance(e, bce.ConnectTimeoutError | bce.ReadTimeoutError):
        return msg("s3.why.timeout")
    if isinstance(e, bce.SSLError):
        return msg("s3.why.tls")
    return msg("s3.why.broke_off")


def _ms(when: Any) -> int:
    return int(when.timestamp() * 1000)
