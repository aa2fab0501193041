"""Printing a guide sheet through the driver: against the printer stub (socket://, a pty) and
an independent emulator; refused on an empty roll or an open cover; an error when it is silent."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from devices.printer.driver import EscposReceiptPrinter
from devices.printer.errors import PaperNotReady, PrinterNoReply
from devices.printer.guide import render_guide, sample_guide
from devices.printer.template import PAPER_58MM, PAPER_80MM
from firmware_stubs.printer import PrinterFirmware
from firmware_stubs.serial_stub import SerialStubServer
from kiosk.apply.effects import PrintableGuide
from kiosk.ports.health import HealthState
from kiosk.ports.printer import PrinterError, PrinterNotReady
from tests.support.escpos_printer import IndependentPrinter
from tests.support.waiting import wait_for


class Stub:
    def __init__(self, server: SerialStubServer, url: str) -> None:
        self.server = server
        self.url = url

    @property
    def firmware(self) -> PrinterFirmware:
        firmware = self.server.firmware
        assert isinstance(firmware, PrinterFirmware)
        return firmware


@pytest.fixture(params=["socket", "pty"])
def stub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Stub]:
    use_pty = request.param == "pty"
    server = SerialStubServer(
        PrinterFirmware(out_dir=tmp_path),
        use_pty=use_pty,
        pty_link=str(tmp_path / "ttyPRN") if use_pty else None,
        name="printer",
    )
    with server:
        yield Stub(server, server.url)


def journey_guide() -> PrintableGuide:
    """The apply journey's own value type, exactly as the runtime hands it over."""
    sample = sample_guide()
    return PrintableGuide(sample.title, sample.lines, sample.terminal_name, sample.hotline)


def test_a_guide_is_printed_and_the_stub_renders_it(stub: Stub) -> None:
    printer = EscposReceiptPrinter(stub.url)
    try:
        guide = journey_guide()
        printer.print_guide(guide)
        assert stub.firmware.wait_for_jobs(1, timeout=10)
        job = stub.firmware.jobs[0]
        assert job.data == render_guide(guide, PAPER_80MM)
        lines = job.text_lines()
        assert lines[:2] == [guide.terminal_name, "办事指南"]
        assert guide.title in lines
        assert "3. 领取受理回执，办结后凭短信取件码在本站自助取" in lines
        assert "咨询电话 12345" in lines
        assert job.png_path is not None
        with Image.open(job.png_path) as picture:
            width, height = picture.size
        assert height > width  # a long strip of paper, not an empty image
        keep = os.environ.get("KIOSK_KEEP_PRINTS")  # set it to a folder to look at the sheet
        if keep:
            shutil.copy(job.png_path, Path(keep) / "service_guide.png")
        assert printer.health().state is HealthState.OK
    finally:
        printer.stop()


def test_paper_out_or_cover_open_refuses_the_guide_without_sending_it(stub: Stub) -> None:
    printer = EscposReceiptPrinter(stub.url, paper=PAPER_58MM)
    try:
        stub.server.control("paper_out", {})
        with pytest.raises(PrinterNotReady, match="paper has run out"):
            printer.print_guide(journey_guide())
        assert printer.health().state is HealthState.FAULT
        stub.server.control("paper_ok", {})
        stub.server.control("cover_open", {})
        with pytest.raises(PaperNotReady, match="cover is open"):
            printer.print_guide(journey_guide())
        assert stub.firmware.jobs == []
        assert stub.firmware.discarded_bytes == 0  # refused here, not thrown away by the printer
        stub.server.control("paper_ok", {})
        printer.print_guide(journey_guide())
        assert stub.firmware.wait_for_jobs(1, timeout=5)
        assert stub.firmware.jobs[0].data == render_guide(journey_guide(), PAPER_58MM)
    finally:
        printer.stop()


def test_a_silent_printer_is_a_printer_error_with_a_sentence(stub: Stub) -> None:
    printer = EscposReceiptPrinter(stub.url, status_timeout_s=0.3)
    try:
        stub.server.control("silence", {"on": True})
        with pytest.raises(PrinterError, match=r"did not answer .* within 0\.3 s") as caught:
            printer.print_guide(journey_guide())
        assert isinstance(caught.value, PrinterNoReply)
        assert not isinstance(caught.value, PrinterNotReady)  # the journey says "not working"
        assert printer.health().state is HealthState.OFFLINE
        assert stub.firmware.jobs == []
    finally:
        printer.stop()


def test_against_an_independent_emulator_the_check_comes_before_the_guide() -> None:
    emulator = IndependentPrinter(paper_sensor=0x12, offline_cause=0x12)
    printer = EscposReceiptPrinter(f"tcp://127.0.0.1:{emulator.port}")
    try:
        printer.print_guide(journey_guide())
        job = render_guide(journey_guide(), PAPER_80MM)
        assert wait_for(lambda: bytes(emulator.received) == b"\x10\x04\x04\x10\x04\x02" + job)
    finally:
        printer.stop()
        emulator.close()

    empty = IndependentPrinter(paper_sensor=0x72, offline_cause=0x32)  # paper end on both
    printer = EscposReceiptPrinter(f"tcp://127.0.0.1:{empty.port}")
    try:
        with pytest.raises(PrinterNotReady):
            printer.print_guide(journey_guide())
        assert wait_for(lambda: len(empty.received) == 6)
        assert bytes(empty.received) == b"\x10\x04\x04\x10\x04\x02"
    finally:
        printer.stop()
        empty.close()
