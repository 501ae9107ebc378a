"""Errors the app reports to its user.

    DLError                    anything the user should be told about
    ├── ServiceError           a remote service (LLM, embeddings) failed
    │   ├── ServiceUnreachable connection refused, DNS, timeout
    │   ├── AuthFailed         401/403: wrong or missing key
    │   ├── ModelNotFound      404: unknown model or wrong endpoint path
    │   ├── RateLimited        429 after retries
    │   ├── ServerFailed       5xx after retries
    │   ├── BadResponse        malformed, empty or broken (stream cut) reply
    │   │   └── EmptyReply     finished normally with no text at all
    │   └── ContextOverflow    400: the request is longer than the model's context
    ├── ImportFailed           an import file is not valid memory; says why
    │   └── PassphraseRequired the file is encrypted and no passphrase was given
    ├── NotFound               a diary entry, backup, bucket or object does not exist
    ├── StoreError             local storage failed (disk full, corrupt)
    │   └── DataDirTooNew      the data dir was written by a newer version of the app
    ├── BudgetError            a request cannot be made to fit the token budget
    └── Stopped                the user stopped a reply before any of it arrived

Adapters translate SDK and OS errors into these; the engine never lets a
failed turn change memory. An error is made from a ``Text`` (a key of the
message catalogue, ``dl_app/messages``, and its values): the class name is its
stable ``type`` for code, ``dl_app.messages.error_text(err, lang)`` its words
for people in the app's language, ``str(err)`` the English words. A plain
string still works (shown as it is, in every language).
"""

from __future__ import annotations

from ..messages import FieldPath, Text, msg

__all__ = [
    "AuthFailed", "BadResponse", "BudgetError", "ContextOverflow", "DLError", "DataDirTooNew",
    "FieldPath", "ImportFailed", "ModelNotFound", "NotFound", "PassphraseRequired",
    "RateLimited", "ServerFailed", "ServiceError", "ServiceUnreachable", "Stopped",
    "StoreError", "Text", "msg",
]


class DLError(Exception):
    """Base of every error shown to the user."""

    def __init__(self, message: str | Text = "", /) -> None:
        super().__init__(message)
        self.text: Text | None = message if isinstance(message, Text) else None

    def __str__(self) -> str:
        return str(self.text) if self.text is not None else super().__str__()


class ServiceError(DLError):
    """A remote service failed."""


class ServiceUnreachable(ServiceError):
    """Connection refused, DNS failure or timeout."""


class AuthFailed(ServiceError):
    """The service refused the API key."""


class ModelNotFound(ServiceError):
    """The model or endpoint path does not exist on the service."""


class RateLimited(ServiceError):
    """The service kept answering 429."""


class ServerFailed(ServiceError):
    """The service kept answering 5xx."""


class BadResponse(ServiceError):
    """The service answered something unusable."""


class EmptyReply(BadResponse):
    """The model finished (not cut off) without any text: a chat turn fails on
    it; housekeeping treats it as an output to reject."""


class ContextOverflow(ServiceError):
    """The service refused a request as longer than the model's context.

    ``limit``: the context length it named; ``prompt``: its count of the
    request's prompt; ``requested``: prompt + answer tokens, as far as it said.
    """

    def __init__(
        self,
        message: str | Text,
        *,
        limit: int | None = None,
        prompt: int | None = None,
        requested: int | None = None,
    ) -> None:
        super().__init__(message)
        self.limit = limit
        self.prompt = prompt
        self.requested = requested


class ImportFailed(DLError):
    """An import file is not valid memory."""


class PassphraseRequired(ImportFailed):
    """The file is encrypted; ask for its passphrase."""


class NotFound(DLError):
    """A diary entry, a backup, a bucket or an object does not exist."""


class StoreError(DLError):
    """Local storage failed."""


class DataDirTooNew(StoreError):
    """The data dir's format is newer than this version of the app can read."""


class BudgetError(DLError):
    """A request cannot fit the token budget."""


class Stopped(DLError):
    """The user stopped the reply before any of it arrived: the turn is not
    stored (a reply stopped later is kept, marked ``stopped``)."""
