"""The backend client's own small exception tree.

The sender decides what to do with a failed request by its class alone: retry later
(`HallUnreachable`, `HallUnavailable`), stop everything until the token is fixed
(`HallAuthRejected`), or park the message (`HallRejected`). Every message is one sentence a
technician can act on; httpx's own errors stay attached as `__cause__` for the log.
"""

from __future__ import annotations


class HallClientError(Exception):
    """Talking to the service hall failed; the message says what to check."""


class HallUnreachable(HallClientError):
    """No answer: connection refused or reset, DNS, or the hall took longer than the timeout."""


class HallUnavailable(HallClientError):
    """The hall answered but could not serve the request now (5xx, 408, 429, busy 409)."""

    def __init__(self, message: str, *, status: int, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after_s = retry_after_s


class HallRejected(HallClientError):
    """The hall refused the request as invalid; sending it again unchanged cannot help."""

    def __init__(self, message: str, *, status: int, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class HallAuthRejected(HallClientError):
    """401: the terminal's token is missing, wrong, expired or revoked."""


class HallProtocolError(HallClientError):
    """The hall's answer does not have the documented shape (a version mismatch, or a proxy)."""


class RosterNotTrusted(HallClientError):
    """A roster failed signature verification (or came from an unexpected key); not cached."""
