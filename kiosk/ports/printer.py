"""The receipt-printer port: what the core hands over to be printed, and what it learns back.

The core builds a `SubmissionReceipt` from the submission it has just committed (personal data
already masked: the paper leaves the terminal with the citizen) and never sees ESC/POS bytes or
layout; the adapter owns the template. Before a citizen is told "take your receipt", the core asks
`paper_status()` so it can offer the SMS/QR alternative instead of printing onto nothing.

A guide sheet ("print this guide") is handed over as any object with the `PrintableSheet`
attributes, so the journey's own value type satisfies the port without the port importing it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from .health import DeviceHealth, EventSink


@dataclass(frozen=True)
class HandedInMaterial:
    """One paper original the citizen dropped into the locker."""

    name: str
    copies: int = 1


@dataclass(frozen=True)
class SubmissionReceipt:
    """Everything the standard submission receipt shows; `applicant` is already masked."""

    terminal_name: str
    terminal_id: str
    tracking_no: str
    submitted_at: datetime
    applicant: str  # e.g. "张*明  4301**********1234" — never the full name and ID number
    items: tuple[str, ...]  # service item names, in the order they were chosen
    materials: tuple[HandedInMaterial, ...]
    compartment: str | None  # label of the compartment holding the originals ("A01"); None: none
    promised_date: date
    fee: str  # plain words: "免费", "已缴 ¥20.00", "到窗口缴纳 ¥15.00"
    hotline: str
    follow_url: str  # what the receipt's QR code carries: follow the application online
    submitted_by: str = ""  # "代办员 李主任 (C-0002) 代为提交" when a village agent applied


class PrintableSheet(Protocol):
    """A plain-text sheet the citizen takes home (a service guide): lines already in their language.

    Read-only attributes, so a frozen dataclass with these fields (the apply journey's
    `PrintableGuide`) satisfies it structurally.
    """

    @property
    def title(self) -> str: ...

    @property
    def lines(self) -> Sequence[str]: ...

    @property
    def terminal_name(self) -> str: ...

    @property
    def hotline(self) -> str: ...


class PaperLevel(StrEnum):
    OK = "ok"
    NEAR_END = "near_end"  # prints, but the roll must be changed soon
    OUT = "out"  # nothing more will print
    UNKNOWN = "unknown"  # the transport cannot read status (a plain file, a write-only link)


@dataclass(frozen=True)
class PaperStatus:
    paper: PaperLevel
    cover_open: bool | None  # None where the printer cannot tell

    @property
    def can_print(self) -> bool:
        return self.paper is not PaperLevel.OUT and self.cover_open is not True


@dataclass(frozen=True)
class PrintedReceipt:
    """What went to the printer: the byte count is what field logs and the bench compare."""

    bytes_sent: int
    tracking_no: str


class PrinterError(Exception):
    """Printing failed; the message names the printer and what a technician can check."""


class PrinterNotReady(PrinterError):
    """The printer answers but cannot print now (paper out, cover open): nothing was sent."""


class ReceiptPrinter(Protocol):
    """One receipt printer. Blocking calls: the core runs them off the UI thread."""

    def start(self, sink: EventSink) -> None:
        """Begin the periodic status check; health changes go to `sink`."""

    def stop(self) -> None: ...

    def paper_status(self) -> PaperStatus:
        """Ask the printer now (raises PrinterError when it does not answer)."""

    def print_submission_receipt(self, receipt: SubmissionReceipt) -> PrintedReceipt:
        """Check paper and cover first, then print; raises PrinterNotReady without printing."""

    def print_guide(self, guide: PrintableSheet) -> None:
        """Print a guide sheet, with the same paper check and errors as a receipt."""

    def health(self) -> DeviceHealth: ...
