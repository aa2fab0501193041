"""The printer stub's ESC/POS interpreter and PNG painter, checked by an independent decoder.

The receipt PNG is read back with zxing-cpp: if the stub drew the barcode or QR from wrongly parsed
bytes, a real decoder would not find the tracking number and the URL in the picture.
"""

from __future__ import annotations

from pathlib import Path

import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from devices.printer.receipt import render_submission_receipt, sample_submission_receipt
from devices.printer.template import PAPER_58MM, PAPER_80MM
from firmware_stubs.printer import (
    Cut,
    EscposInterpreter,
    PrinterFirmware,
    code128_text,
    render_bytes_png,
)


def test_the_standard_receipt_reads_back_as_text_barcode_and_qr() -> None:
    receipt = sample_submission_receipt()
    asked, jobs = EscposInterpreter().feed(render_submission_receipt(receipt, PAPER_80MM))
    assert asked == []
    assert len(jobs) == 1
    _, elements = jobs[0]
    lines = [getattr(e, "text", "") for e in elements]
    assert "受理回执" in lines
    assert "受理编号：CL20250618000042" in lines
    assert any("李*华" in line for line in lines)
    assert isinstance(elements[-1], Cut)


def test_status_requests_are_answered_even_between_job_bytes() -> None:
    firmware = PrinterFirmware()
    assert firmware.feed(b"\x1b@abc\x10\x04") == b""  # incomplete request: wait
    assert firmware.feed(b"\x04") == bytes([0x12])
    firmware.control("paper_near_end", {})
    assert firmware.feed(b"\x10\x04\x04\x10\x04\x02") == bytes([0x1E, 0x12])
    firmware.control("cover_open", {})
    assert firmware.feed(b"\x10\x04\x02\x10\x04\x01") == bytes([0x16, 0x1A])


def test_a_job_sent_with_the_paper_out_is_not_printed() -> None:
    firmware = PrinterFirmware()
    firmware.control("paper_out", {})
    firmware.feed(b"\x1b@hello\n\x1dV\x00")
    assert firmware.jobs == []
    assert firmware.discarded_bytes > 0
    firmware.control("paper_ok", {})
    firmware.feed(b"\x1b@hello\n\x1dV\x00")
    assert firmware.jobs[0].text_lines() == ["hello"]


def test_code128_code_sets_resolve_to_the_text() -> None:
    assert code128_text(b"{BCL{C" + bytes([20, 25, 6, 18, 0, 0, 42])) == "CL20250618000042"
    assert code128_text(b"{Ba{{b") == "a{b"


def test_the_png_carries_a_readable_barcode_and_qr(tmp_path: Path) -> None:
    receipt = sample_submission_receipt()
    for paper in (PAPER_80MM, PAPER_58MM):
        path = render_bytes_png(
            render_submission_receipt(receipt, paper), tmp_path / f"r{paper.mm}.png", paper.mm
        )
        with Image.open(path) as image:
            assert image.width == paper.mm * 8 + 56
            found = {(r.format.name, r.text) for r in zxingcpp.read_barcodes(image)}
        assert ("Code128", receipt.tracking_no) in found
        assert ("QRCode", receipt.follow_url) in found


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(max_size=80), max_size=6))
def test_arbitrary_bytes_never_break_the_interpreter(chunks: list[bytes]) -> None:
    interpreter = EscposInterpreter()
    for chunk in chunks:
        asked, _ = interpreter.feed(chunk)
        assert all(0 <= n <= 255 for n in asked)
    interpreter.pending_job()


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2000), st.integers(0, 255))
def test_a_receipt_with_one_byte_flipped_still_interprets(position: int, flip: int) -> None:
    job = bytearray(render_submission_receipt(sample_submission_receipt(), PAPER_58MM))
    job[position % len(job)] ^= flip
    interpreter = EscposInterpreter()
    interpreter.feed(bytes(job))
    interpreter.pending_job()
