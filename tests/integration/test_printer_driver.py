"""The receipt printer driver against its stub (tcp://, socket://, a pty) and an independent one."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.printer.driver import EscposReceiptPrinter
from devices.printer.errors import PaperNotReady, PrinterNoReply, PrinterOffline
from devices.printer.receipt import render_submission_receipt, sample_submission_receipt
from devices.printer.template import PAPER_58MM, PAPER_80MM
from firmware_stubs.printer import PrinterFirmware
from firmware_stubs.serial_stub import SerialStubServer
from kiosk.ports.health import DeviceHealthChanged, HealthState
from kiosk.ports.printer import PaperLevel, PrinterError, PrinterNotReady
from tests.support.escpos_printer import IndependentPrinter
from tests.support.waiting import wait_for


class Line:
    def __init__(self, server: SerialStubServer, url: str) -> None:
        self.server = server
        self.url = url

    @property
    def firmware(self) -> PrinterFirmware:
        firmware = self.server.firmware
        assert isinstance(firmware, PrinterFirmware)
        return firmware


@pytest.fixture(params=["tcp", "socket", "pty"])
def line(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Line]:
    use_pty = request.param == "pty"
    server = SerialStubServer(
        PrinterFirmware(out_dir=tmp_path),
        use_pty=use_pty,
        pty_link=str(tmp_path / "ttyPRN") if use_pty else None,
        name="printer",
    )
    with server:
        url = server.url
        if request.param == "tcp":
            url = f"tcp://127.0.0.1:{server.port}"
        yield Line(server, url)


@pytest.fixture
def tcp_line(tmp_path: Path) -> Iterator[Line]:
    with SerialStubServer(PrinterFirmware(out_dir=tmp_path), name="printer") as server:
        yield Line(server, f"tcp://127.0.0.1:{server.port}")


def test_a_receipt_is_printed_and_rendered(line: Line) -> None:
    printer = EscposReceiptPrinter(line.url)
    try:
        receipt = sample_submission_receipt()
        printed = printer.print_submission_receipt(receipt)
        assert line.firmware.wait_for_jobs(1, timeout=10)
        job = line.firmware.jobs[0]
        assert printed.bytes_sent == len(job.data)
        assert job.data == render_submission_receipt(receipt, PAPER_80MM)
        assert job.barcodes() == [receipt.tracking_no]
        assert job.qr_codes() == [receipt.follow_url.encode()]
        assert job.png_path is not None
        assert Path(job.png_path).stat().st_size > 10_000
        assert printer.health().state is HealthState.OK
    finally:
        printer.stop()


def test_paper_states_map_to_health_and_an_empty_roll_refuses_the_job(line: Line) -> None:
    events: list[object] = []
    printer = EscposReceiptPrinter(line.url, paper=PAPER_58MM, poll_interval_s=60)
    printer.start(events.append)
    try:
        assert wait_for(lambda: printer.health().state is HealthState.OK)
        line.server.control("paper_near_end", {})
        assert printer.paper_status().paper is PaperLevel.NEAR_END
        assert printer.health().state is HealthState.DEGRADED
        assert "nearly used up" in printer.health().reason
        printer.print_submission_receipt(sample_submission_receipt())  # still prints
        assert line.firmware.wait_for_jobs(1, timeout=5)
        line.server.control("paper_out", {})
        with pytest.raises(PrinterNotReady, match="paper has run out"):
            printer.print_submission_receipt(sample_submission_receipt())
        assert printer.health().state is HealthState.FAULT
        line.server.control("paper_ok", {})
        line.server.control("cover_open", {})
        with pytest.raises(PaperNotReady, match="cover is open"):
            printer.print_submission_receipt(sample_submission_receipt())
        line.server.control("paper_ok", {})
        assert printer.paper_status().can_print
        assert printer.health().state is HealthState.OK
        assert len(line.firmware.jobs) == 1
        states = [e.health.state for e in events if isinstance(e, DeviceHealthChanged)]
        ok, degraded, fault = HealthState.OK, HealthState.DEGRADED, HealthState.FAULT
        assert states == [ok, degraded, fault, fault, ok]  # paper out, then cover open: two reasons
    finally:
        printer.stop()


def test_noise_and_split_replies_are_survived(line: Line) -> None:
    printer = EscposReceiptPrinter(line.url)
    try:
        line.server.control("noise", {"hex": "ff00a5"})
        assert printer.paper_status().paper is PaperLevel.OK
        line.server.control("split", {"on": True})
        line.server.control("paper_near_end", {})
        assert printer.paper_status().paper is PaperLevel.NEAR_END
    finally:
        printer.stop()


def test_a_corrupted_status_byte_is_not_believed_and_the_next_ask_works(line: Line) -> None:
    printer = EscposReceiptPrinter(line.url, status_timeout_s=0.5)
    try:
        line.server.control("corrupt_next", {"count": 1})
        with pytest.raises(PrinterNoReply, match="did not answer"):
            printer.paper_status()
        assert printer.health().state is HealthState.OFFLINE
        printer.status_timeout_s = 5  # the next ask is answered; a busy machine may be slow
        assert printer.paper_status().paper is PaperLevel.OK
        assert printer.health().state is HealthState.OK
    finally:
        printer.stop()


def test_silence_is_offline_with_a_sentence(line: Line) -> None:
    printer = EscposReceiptPrinter(line.url, status_timeout_s=0.3)
    try:
        line.server.control("silence", {"on": True})
        with pytest.raises(PrinterError, match=r"did not answer .* within 0\.3 s"):
            printer.print_submission_receipt(sample_submission_receipt())
        assert printer.health().state is HealthState.OFFLINE
        assert line.firmware.jobs == []
        line.server.control("silence", {"on": False})
        printer.status_timeout_s = 5  # the same driver recovers; a busy machine may answer late
        try:
            printer.print_submission_receipt(sample_submission_receipt())
        except PrinterError as err:  # say what went over the line, to tell driver from stub
            raise AssertionError(
                f"{err}; the printer got {line.server.received.hex(' ')} and sent "
                f"{line.server.sent.hex(' ')}"
            ) from err
        assert line.firmware.wait_for_jobs(1, timeout=5)
    finally:
        printer.stop()


@pytest.mark.parametrize("fault", ["unplug", "unplug_mid_frame"])
def test_unplug_goes_offline_and_the_poller_recovers_by_itself(line: Line, fault: str) -> None:
    # a dead line is refused or reset at once; the status timeout only has to outlast a loaded
    # machine's scheduling (0.3 s did not, once, for the print after the replug)
    printer = EscposReceiptPrinter(line.url, status_timeout_s=1.5, poll_interval_s=0.2)
    printer.start(lambda event: None)
    try:
        assert wait_for(lambda: printer.health().state is HealthState.OK)
        line.server.control(fault, {})
        if fault == "unplug_mid_frame":
            # The answer goes out, then the line dies: this ask or the next one fails.
            with contextlib.suppress(PrinterError):
                printer.paper_status()
            with pytest.raises(PrinterError):
                printer.paper_status()
        assert wait_for(lambda: printer.health().state is HealthState.OFFLINE)
        with pytest.raises(PrinterError):
            printer.print_submission_receipt(sample_submission_receipt())
        line.server.replug()
        assert wait_for(lambda: printer.health().state is HealthState.OK, timeout=5)
        printer.print_submission_receipt(sample_submission_receipt())
        assert line.firmware.wait_for_jobs(1, timeout=5)
    finally:
        printer.stop()


def test_an_unreachable_printer_is_offline_with_the_url_in_the_sentence() -> None:
    printer = EscposReceiptPrinter("tcp://127.0.0.1:1")
    with pytest.raises(PrinterOffline, match=r"tcp://127\.0\.0\.1:1 cannot be reached"):
        printer.paper_status()
    assert printer.health().state is HealthState.OFFLINE


def test_a_file_printer_gets_the_exact_bytes_and_unknown_status(tmp_path: Path) -> None:
    target = tmp_path / "job.bin"
    printer = EscposReceiptPrinter(f"file://{target}")
    try:
        receipt = sample_submission_receipt()
        printed = printer.print_submission_receipt(receipt)
        assert printer.paper_status().paper is PaperLevel.UNKNOWN
    finally:
        printer.stop()
    assert target.read_bytes() == render_submission_receipt(receipt, PAPER_80MM)
    assert printed.bytes_sent == target.stat().st_size


def test_against_an_independent_emulator() -> None:
    emulator = IndependentPrinter(paper_sensor=0x1E, offline_cause=0x12)  # near end
    printer = EscposReceiptPrinter(f"tcp://127.0.0.1:{emulator.port}")
    try:
        receipt = sample_submission_receipt()
        printer.print_submission_receipt(receipt)
        assert printer.health().state is HealthState.DEGRADED
        job = render_submission_receipt(receipt, PAPER_80MM)
        assert wait_for(lambda: emulator.received.endswith(job), timeout=5)
        assert emulator.received.startswith(b"\x10\x04\x04\x10\x04\x02")
    finally:
        printer.stop()
        emulator.close()
