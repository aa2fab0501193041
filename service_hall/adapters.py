"""Pluggable edges of the hall: how fees are paid and how SMS leave the building.

A real deployment swaps these for the province's payment platform and an SMS gateway; the
reference ones keep everything on the machine and visible to staff, so the loop can be shown
and tested without any contract with a payment or telecom provider.
"""

from __future__ import annotations

from typing import Protocol


class PaymentAdapter(Protocol):
    """Turns a payment order into the link a citizen's phone opens from the kiosk's QR code."""

    name: str

    def payment_link(self, order_id: str, amount_fen: int, description: str) -> str: ...


class SmsSendFailed(Exception):
    """The gateway refused or could not be reached; the message stays queued for a retry."""


class SmsSender(Protocol):
    name: str

    def send(self, phone: str, body: str) -> None: ...


class StaffMarksPaid:
    """Reference payment: the link shows the amount; staff record the payment in the staff UI."""

    name = "staff-marks-paid"

    def __init__(self, public_base_url: str) -> None:
        self._base = public_base_url.rstrip("/")

    def payment_link(self, order_id: str, amount_fen: int, description: str) -> str:
        return f"{self._base}/pay/{order_id}"


class RecordingSmsSender:
    """Reference sender: nothing leaves the machine; staff read the messages on /staff/sms."""

    name = "recorded"

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, phone: str, body: str) -> None:
        self.sent.append((phone, body))
