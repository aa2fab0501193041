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
# Besides 5xx (the hall's "retry_later" is a 503 with Retry-After): answers that mean "not now".
# A 409 is never among them: it always means the request contradicts what the hall holds.
RETRYABLE_STATUSES = frozenset({408, 425, 429})
MAX_SUBMISSIONS_PER_BATCH = 100  # the hall's limit per POST /submissions/batch


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

    def create_submissions(
        self, entries: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> list[dict[str, Any]]:
        """Many creates in one request: (Idempotency-Key, body) each, at most 100.

        Returns the hall's per-entry results in order (`outcome` created | replayed | rejected |
        retry_later, `status`, `submission` or `error`); the request as a whole fails like any
        other (HallRejected when one entry is malformed: send them one by one instead).
        """
        if not 1 <= len(entries) <= MAX_SUBMISSIONS_PER_BATCH:
            raise ValueError(f"a batch holds 1 to {MAX_SUBMISSIONS_PER_BATCH} submissions")
        answer = self._call(
            "POST",
            "/submissions/batch",
            json_body={
                "submissions": [
                    {"idempotency_key": key, "submission": dict(body)} for key, body in entries
                ]
            },
        )
        results = answer.get("results")
        if (
            not isinstance(results, list)
            or len(results) != len(entries)
            or not all(isinstance(r, dict) for r in results)
            or [r.get("idempotency_key") for r in results] != [key for key, _ in entries]
        ):
            raise HallProtocolError(
                "The hall's answer to POST /submissions/batch does not hold one result per "
                "submission in order; check that the hall follows docs/hall-api.md."
            )
        return results

    def lookup_elicences(
        self, id_number: str, purpose: str, submission_id: str | None = None
    ) -> dict[str, Any]:
        """E-licences, reusable e-copies and the phone on file of the card holder (logged)."""
        body: dict[str, Any] = {"id_number": id_number, "purpose": purpose[:80] or None}
        if submission_id is not None:
            body["submission_id"] = submission_id
        return self._call("POST", "/elicences/lookup", json_body=body)

    def payment_order(self, hall_submission_id: str) -> dict[str, Any] | None:
        """The submission's payment order, or None when it has no fee (the hall answers 404)."""
        try:
            return self._call("GET", f"/submissions/{hall_submission_id}/payment")
        except HallRejected as err:
            if err.status == 404:
                return None
            raise

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
        if status >= 500 or status in RETRYABLE_STATUSES:
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
