"""A staff member's side of the hall, driven over HTTP exactly as the staff UI drives it.

The full-loop demo and the tests approve submissions and mark results produced through this,
not through `HallService`: it logs in with the login form, keeps the session cookie, and posts
the same CSRF-protected form actions a browser posts, so what it proves holds for the real UI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

import httpx

Action = Literal["start_review", "approve", "reject", "result_produced", "mark_paid"]
# The pickup-code SMS: "…取件码12345678…" (see HallService._result_loaded).
_PICKUP_CODE_IN_SMS = re.compile(r"取件码(\d{8})")
_PICKUP_LINK_IN_SMS = re.compile(r"/p/(GZPK1\.[A-Za-z0-9_.-]+)")


class StaffClientError(Exception):
    """Base of what the staff client raises; the message says what to do."""


class HallUnreachable(StaffClientError):
    pass


class StaffLoginFailed(StaffClientError):
    pass


class StaffActionRefused(StaffClientError):
    """The hall refused the action (an illegal step, a rejection without a reason, …)."""


@dataclass(frozen=True)
class SmsRecord:
    id: int
    phone: str
    kind: str
    text: str
    submission_id: str | None
    status: str
    created_at: str

    @property
    def pickup_code(self) -> str | None:
        """The 8-digit code of a pickup-code SMS, or None."""
        found = _PICKUP_CODE_IN_SMS.search(self.text)
        return found.group(1) if found else None

    @property
    def pickup_qr(self) -> str | None:
        """The signed QR text behind the SMS's link, or None."""
        found = _PICKUP_LINK_IN_SMS.search(self.text)
        return found.group(1) if found else None


class StaffClient:
    """One logged-in staff session. Use as a context manager, or call `close()`."""

    def __init__(
        self, base_url: str, username: str, password: str, *, timeout_s: float = 30.0
    ) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=timeout_s, follow_redirects=False)
        self._username = username
        try:
            self._csrf = self._login(username, password)
        except BaseException:
            self._http.close()
            raise

    def __enter__(self) -> StaffClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # ---- actions, as the buttons on the details page ------------------------------------

    def start_review(self, submission_id: str) -> None:
        self._act(submission_id, "start_review")

    def approve(self, submission_id: str) -> None:
        """Approve, starting the review first when the submission is not in review yet."""
        if "start_review" in self.submission(submission_id)["allowed_actions"]:
            self._act(submission_id, "start_review")
        self._act(submission_id, "approve")

    def reject(self, submission_id: str, reason: str) -> None:
        if "start_review" in self.submission(submission_id)["allowed_actions"]:
            self._act(submission_id, "start_review")
        self._act(submission_id, "reject", reason)

    def mark_result_produced(self, submission_id: str) -> None:
        """The result is ready: the hall creates the delivery task to the kiosk of origin."""
        self._act(submission_id, "result_produced")

    def mark_paid(self, submission_id: str) -> None:
        self._act(submission_id, "mark_paid")

    # ---- reading ---------------------------------------------------------------------

    def submission(self, submission_id: str) -> dict[str, Any]:
        """The details page's content, with `allowed_actions`."""
        found: dict[str, Any] = self._get_json(f"/staff/api/submissions/{submission_id}")
        return found

    def sms_messages(
        self,
        *,
        since_id: int = 0,
        submission_id: str | None = None,
        kind: str | None = None,
    ) -> list[SmsRecord]:
        """The SMS outbox, oldest first, newer than `since_id`, optionally filtered."""
        answer = self._get_json("/staff/api/sms", params={"since": since_id, "limit": 1000})
        records = [
            SmsRecord(
                id=int(m["id"]),
                phone=str(m["phone"]),
                kind=str(m["kind"]),
                text=str(m["body"]),
                submission_id=m.get("submission_id"),
                status=str(m["status"]),
                created_at=str(m["created_at"]),
            )
            for m in answer["messages"]
        ]
        return sorted(
            (
                r
                for r in records
                if (submission_id is None or r.submission_id == submission_id)
                and (kind is None or r.kind == kind)
            ),
            key=lambda r: r.id,
        )

    # ---- HTTP ------------------------------------------------------------------------

    def _login(self, username: str, password: str) -> str:
        response = self._send(
            "POST",
            "/staff/login",
            data={"username": username, "password": password, "next": "/staff/"},
        )
        if response.status_code != 303:
            raise StaffLoginFailed(
                f"The hall refused staff login '{username}' (HTTP {response.status_code}); "
                "check the name and password ('kiosk hall add-staff' resets it)."
            )
        session = self._get_json("/staff/api/session")
        return str(session["csrf"])

    def _act(self, submission_id: str, action: Action, reason: str = "") -> None:
        response = self._send(
            "POST",
            f"/staff/submissions/{submission_id}/action",
            data={"action": action, "csrf": self._csrf, "reason": reason},
        )
        location = response.headers.get("location", "")
        if response.status_code != 303:
            raise StaffActionRefused(
                f"The hall answered HTTP {response.status_code} to '{action}' on {submission_id}."
            )
        if location.startswith("/staff/login"):
            raise StaffLoginFailed(f"The staff session of '{self._username}' ended; log in again.")
        error = parse_qs(urlsplit(location).query).get("error")
        if error:
            raise StaffActionRefused(f"'{action}' on {submission_id} was refused: {error[0]}")

    def _get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        response = self._send("GET", path, params=params)
        if response.status_code == 401:
            raise StaffLoginFailed(f"The staff session of '{self._username}' is not valid.")
        if response.status_code == 404:
            raise StaffActionRefused(_message(response))
        if response.status_code != 200:
            raise StaffClientError(f"GET {path} answered HTTP {response.status_code}.")
        return response.json()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            return self._http.request(method, path, **kwargs)
        except httpx.HTTPError as err:
            raise HallUnreachable(
                f"The service hall at {self._http.base_url} did not answer ({err}); is "
                "'kiosk hall serve' running?"
            ) from err


def _message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return f"HTTP {response.status_code}"
