"""The hall's own small exception tree.

Every error carries a sentence an integrator or a technician can act on, and the HTTP layer maps
each class to one status code, so no bad input can surface as a 500.
"""

from __future__ import annotations


class HallError(Exception):
    """Base of every error the hall reports to a caller."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NotAuthenticated(HallError):
    status_code = 401
    code = "not_authenticated"


class NotFound(HallError):
    status_code = 404
    code = "not_found"


class Conflict(HallError):
    """The request contradicts what the hall already holds (reused key, illegal transition)."""

    status_code = 409
    code = "conflict"


class InvalidInput(HallError):
    status_code = 422
    code = "invalid_input"


class PayloadTooLarge(HallError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(HallError):
    status_code = 415
    code = "unsupported_media_type"


class RetryLater(HallError):
    """The hall could not settle the request just now (two requests raced, the database was
    busy); sending the very same request again shortly will work. 503 with `Retry-After`, so
    no client mistakes it for a real conflict."""

    status_code = 503
    code = "retry_later"

    def __init__(self, message: str, *, retry_after_s: int = 1) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class IllegalTransition(Conflict):
    """A lifecycle step that does not follow from the current state."""

    code = "illegal_transition"
