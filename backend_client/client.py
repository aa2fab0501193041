"""A thin, typed client of the hall's kiosk API (/api/v1), over one keep-alive httpx connection.

It does one thing: turn a call into a request and the answer into a dict or one of our errors
(see errors.py). Retrying, ordering and bookkeeping are the sender's job, so the same client
serves the outbox sender, the catalog/roster sync and the task poller.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Any

import httpx

from .errors import (
    HallAuthRejected,
    HallProtocolError,
    HallRejected,
    HallUnavailable,
    HallUnreachable,
)

API_PREFIX = "/api/v1"
# 409s the hall uses for "two requests raced, send it again": retried, not parked.
RETRYABLE_CONFLICT_CODES = frozenset({"conflict"})
RETRYABLE_STATUSES = frozenset({408, 425, 429})


class HallClient:
    """One per thread that talks to the hall (httpx clients are not shared across threads here)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout_s: float = 10.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._timeout_s = timeout_s
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout_s),
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            transport=transport,
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=8),
        )

    def set_token(self, token: str) -> None:
        """A technician rotated the token; the next request carries the new one."""
        self._http.headers["Authorization"] = f"Bearer {token}"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HallClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- the API --------------------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/health")

    def whoami(self) -> dict[str, Any]:
        return self._call("GET", "/kiosk")

    def public_key(self) -> dict[str, Any]:
        return self._call("GET", "/public-key")

    def create_submission(self, idempotency_key: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """201 (created) and 200 (a replay of the same key and body) both mean the hall has it."""
        return self._call(
            "POST",
            "/submissions",
            json_body=dict(body),
            headers={"Idempotency-Key": idempotency_key},
        )

    def upload_ecopy(
        self,
        submission_id: str,
        *,
        data: bytes,
        filename: str,
        content_type: str,
        material_code: str,
        sha256: str,
        idempotency_key: str,
    ) -> dict[str, Any]:
        """The hall recomputes the checksum and answers an identical re-upload with 200."""
        return self._call(
            "POST",
            f"/submissions/{submission_id}/ecopies",
            files={"file": (filename, data, content_type)},
            form={"material_code": material_code, "sha256": sha256},
            headers={"Idempotency-Key": idempotency_key},
        )

    def post_events(
        self, events: Sequence[Mapping[str, Any]], idempotency_key: str
    ) -> dict[str, Any]:
        return self._call(
            "POST",
            "/events",
            json_body={"events": [dict(event) for event in events]},
            headers={"Idempotency-Key": idempotency_key},
        )

    def catalog(self, since_version: int) -> dict[str, Any]:
        return self._call("GET", "/catalog", params={"since_version": since_version})

    def roster(self) -> dict[str, Any]:
        return self._call("GET", "/roster")

    def tasks(self) -> dict[str, Any]:
        return self._call("GET", "/tasks")

    # -- internals ------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        json_body: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        form: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        url = f"{API_PREFIX}{path}"
        try:
            response = self._http.request(
                method,
                url,
                json=json_body,
                params=params,
                files=files,
                data=form,
                headers=headers,
            )
        except httpx.TimeoutException as err:
            raise HallUnreachable(
                f"The service hall at {self.base_url} did not answer {method} {url} within "
                f"{self._timeout_s:g} s; check the network, or raise [hall] timeout_s."
            ) from err
        except httpx.TransportError as err:
            raise HallUnreachable(
                f"The service hall at {self.base_url} cannot be reached ({type(err).__name__}: "
                f"{err}); check the network cable or mobile link and [hall] url."
            ) from err
        return self._interpret(method, url, response)

    def _interpret(self, method: str, url: str, response: httpx.Response) -> dict[str, Any]:
        status = response.status_code
        if 200 <= status < 300:
            try:
                body = response.json()
            except (json.JSONDecodeError, UnicodeDecodeError) as err:
                raise HallProtocolError(
                    f"The service hall answered {method} {url} with something that is not JSON; "
                    "check that [hall] url points at the hall and not at a proxy's login page."
                ) from err
            if not isinstance(body, dict):
                raise HallProtocolError(
                    f"The service hall answered {method} {url} with JSON that is not an object."
                )
            return body
        code, message = _error_of(response)
        said = f" ({message})" if message else ""
        if status == 401:
            raise HallAuthRejected(
                f"The service hall refused this terminal's token{said}; issue a new one with "
                "'kiosk hall add-kiosk' and put it in [hall] token. Nothing is lost meanwhile."
            )
        if (
            status >= 500
            or status in RETRYABLE_STATUSES
            or (status == 409 and code in RETRYABLE_CONFLICT_CODES)
        ):
            raise HallUnavailable(
                f"The service hall could not serve {method} {url} now (HTTP {status}){said}; "
                "it will be retried.",
                status=status,
                retry_after_s=_retry_after(response),
            )
        raise HallRejected(
            f"The service hall rejected {method} {url} (HTTP {status}, {code or 'no code'}){said}",
            status=status,
            code=code,
        )


def _error_of(response: httpx.Response) -> tuple[str, str]:
    """The hall's `{"error": {"code", "message"}}`, tolerating anything else (e.g. a proxy page)."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return "", response.text[:200].strip()
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return str(error.get("code", "")), str(error.get("message", ""))
        detail = body.get("detail")
        if detail is not None:
            return "", str(detail)[:300]
    return "", ""


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare from a hall; our own backoff applies
