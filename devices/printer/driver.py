"""The receipt printer driver: status before every job and on a timer, templates to bytes, health.

Paper is the printer's weak point in a 24-hour terminal: nobody is there at 3 a.m. to see the roll
run out. So the driver asks the printer (DLE EOT 4 for the roll sensor, DLE EOT 2 for cover open and
paper-end stop) before each job, refusing the job rather than printing onto nothing, and on a timer
so the technician's dashboard shows "paper near end" while there is still time to act.

Health: near end → degraded; paper out or cover open → fault; no connection or no answer → offline.
A status request that went unanswered closes the connection, so a late answer can never be taken
for the answer to the next question.
"""

from __future__ import annotations

import contextlib
import threading
import time

from kiosk.ports.health import DeviceHealth, DeviceHealthChanged, EventSink, HealthState
from kiosk.ports.printer import (
    PaperLevel,
    PaperStatus,
    PrintableSheet,
    PrintedReceipt,
    SubmissionReceipt,
)

from .errors import PaperNotReady, PrinterNoReply, PrinterOffline
from .guide import render_guide
from .receipt import render_submission_receipt
from .status import (
    REQUEST_OFFLINE_CAUSE,
    REQUEST_PAPER_SENSOR,
    StatusDecoder,
    paper_status,
)
from .template import PAPER_80MM, PaperWidth
from .transport import PrinterLine

DEVICE_NAME = "receipt printer"


class EscposReceiptPrinter:
    """Implements the `ReceiptPrinter` port for any printer URL (see transport.py)."""

    def __init__(
        self,
        url: str,
        *,
        paper: PaperWidth = PAPER_80MM,
        status_timeout_s: float = 1.0,
        poll_interval_s: float = 30.0,
        baudrate: int = 9600,
    ) -> None:
        self.url = url
        self.paper = paper
        self.status_timeout_s = status_timeout_s  # how long one status question may wait
        self._poll_interval = poll_interval_s
        self._line = PrinterLine(url, baudrate=baudrate)
        self._decoder = StatusDecoder()
        self._lock = threading.Lock()  # one conversation with the printer at a time
        self._sink: EventSink | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._health = DeviceHealth(
            DEVICE_NAME,
            HealthState.OFFLINE,
            f"{DEVICE_NAME} at {url} has not been checked yet.",
            time.monotonic(),
        )

    # -- life cycle -----------------------------------------------------------------------------
    def start(self, sink: EventSink) -> None:
        self._sink = sink
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll, name="printer-status", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with self._lock:
            self._line.close()

    def check_now(self) -> None:
        """Ask the poller to check at once (after a technician changed the roll)."""
        self._wake.set()

    # -- port -------------------------------------------------------------------------------------
    def health(self) -> DeviceHealth:
        return self._health

    def paper_status(self) -> PaperStatus:
        with self._lock:
            return self._paper_status_locked()

    def print_submission_receipt(self, receipt: SubmissionReceipt) -> PrintedReceipt:
        job = render_submission_receipt(receipt, self.paper)
        return PrintedReceipt(self.print_job(job), receipt.tracking_no)

    def print_guide(self, guide: PrintableSheet) -> None:
        """Rendered before the status check, so a template fault never costs a status round."""
        self.print_job(render_guide(guide, self.paper))

    def print_job(self, job: bytes) -> int:
        """Send rendered ESC/POS bytes after the status check; returns the bytes sent."""
        with self._lock:
            status = self._paper_status_locked()
            if not status.can_print:
                raise PaperNotReady(self._not_ready_sentence(status))
            try:
                self._line.write(job)
            except PrinterOffline as err:
                self._set_health(HealthState.OFFLINE, str(err))
                raise
        return len(job)

    # -- status -----------------------------------------------------------------------------------
    def _paper_status_locked(self) -> PaperStatus:
        try:
            if not self._line.can_read_status:
                self._line.open()
                status = PaperStatus(PaperLevel.UNKNOWN, None)
            else:
                sensor = self._ask(REQUEST_PAPER_SENSOR, "paper sensor")
                cause = self._ask(REQUEST_OFFLINE_CAUSE, "offline cause")
                status = paper_status(sensor, cause)
        except (PrinterOffline, PrinterNoReply) as err:
            self._set_health(HealthState.OFFLINE, str(err))
            raise
        self._set_health(*self._judge(status))
        return status

    def _ask(self, request: bytes, what: str) -> int:
        self._line.write(request)
        self._decoder.reset()
        deadline = time.monotonic() + self.status_timeout_s
        while time.monotonic() < deadline:
            answers = self._decoder.feed(self._line.read(deadline))
            if answers:
                return answers[-1]
        self._line.close()
        raise PrinterNoReply(
            f"{DEVICE_NAME} at {self.url} did not answer the {what} status request "
            f"(DLE EOT) within {self.status_timeout_s:.1f} s; check that it is switched on and "
            "that the URL points at the printer."
        )

    def _judge(self, status: PaperStatus) -> tuple[HealthState, str]:
        if not status.can_print:
            return HealthState.FAULT, self._not_ready_sentence(status)
        if status.paper is PaperLevel.NEAR_END:
            return (
                HealthState.DEGRADED,
                f"{DEVICE_NAME} at {self.url}: the paper roll is nearly used up; "
                "put in a new roll soon.",
            )
        return HealthState.OK, ""

    def _not_ready_sentence(self, status: PaperStatus) -> str:
        if status.cover_open:
            return f"{DEVICE_NAME} at {self.url}: the cover is open; close it to print."
        return f"{DEVICE_NAME} at {self.url}: the paper has run out; put in a new roll."

    def _set_health(self, state: HealthState, reason: str) -> None:
        if (state, reason) == (self._health.state, self._health.reason):
            return
        self._health = DeviceHealth(DEVICE_NAME, state, reason, time.monotonic())
        if self._sink is not None:
            self._sink(DeviceHealthChanged(self._health))

    def _poll(self) -> None:
        while not self._stop.is_set():
            # A failure is already reflected in health; the next round tries again.
            with contextlib.suppress(PrinterOffline, PrinterNoReply):
                self.paper_status()
            self._wake.wait(self._poll_interval)
            self._wake.clear()
