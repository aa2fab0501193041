"""`kiosk device printer … sample-receipt` in a subprocess: the JSON contract and exit codes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.printer.receipt import render_submission_receipt, sample_submission_receipt
from devices.printer.template import PAPER_58MM, PAPER_80MM
from firmware_stubs.printer import PrinterFirmware, start_from_settings, start_printer_stub
from firmware_stubs.serial_stub import SerialStubServer
from kiosk.config import Settings

KIOSK = [sys.executable, "-m", "bootstrap"]
SAMPLE = sample_submission_receipt()


def kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KIOSK, *args], capture_output=True, text=True, timeout=60)


@pytest.fixture
def stub(tmp_path: Path) -> Iterator[SerialStubServer]:
    server = start_printer_stub(out_dir=tmp_path)
    try:
        yield server
    finally:
        server.stop()


def firmware(server: SerialStubServer) -> PrinterFirmware:
    assert isinstance(server.firmware, PrinterFirmware)
    return server.firmware


def test_sample_receipt_over_tcp(stub: SerialStubServer) -> None:
    result = kiosk(
        "device", "printer", "--printer", f"tcp://127.0.0.1:{stub.port}", "sample-receipt"
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    expected = render_submission_receipt(SAMPLE, PAPER_80MM)
    assert document == {
        "bytes": len(expected),
        "tracking_no": SAMPLE.tracking_no,
        "pickup_qr": SAMPLE.follow_url,
    }
    assert firmware(stub).wait_for_jobs(1, timeout=10)
    job = firmware(stub).jobs[0]
    assert job.data == expected
    assert job.png_path is not None
    assert Path(job.png_path).is_file()


def test_sample_receipt_over_a_serial_url_on_58mm_paper(stub: SerialStubServer) -> None:
    result = kiosk("device", "printer", "--printer", stub.url, "--paper", "58", "sample-receipt")
    assert result.returncode == 0, result.stderr
    assert firmware(stub).wait_for_jobs(1, timeout=10)
    assert firmware(stub).jobs[0].data == render_submission_receipt(SAMPLE, PAPER_58MM)


def test_sample_receipt_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "receipt.bin"
    result = kiosk("device", "printer", "--printer", f"file://{target}", "sample-receipt")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["bytes"] == target.stat().st_size


def test_paper_out_is_exit_1_and_nothing_printed(stub: SerialStubServer) -> None:
    stub.control("paper_out", {})
    result = kiosk("device", "printer", "--printer", stub.url, "sample-receipt")
    assert result.returncode == 1
    error = json.loads(result.stdout)["error"]
    assert stub.url in error
    assert "paper has run out" in error
    assert firmware(stub).jobs == []


def test_a_silent_printer_is_exit_1(stub: SerialStubServer) -> None:
    stub.control("silence", {"on": True})
    result = kiosk("device", "printer", "--printer", stub.url, "--timeout", "0.3", "sample-receipt")
    assert result.returncode == 1
    assert "did not answer" in json.loads(result.stdout)["error"]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("url", ["tcp://127.0.0.1:1", "usb://zz:1", "file:///no/such/dir/x"])
def test_unreachable_printers_are_exit_1_with_a_sentence(url: str) -> None:
    result = kiosk("device", "printer", "--printer", url, "sample-receipt")
    assert result.returncode == 1, result.stdout
    error = json.loads(result.stdout)["error"]
    assert url in error
    assert "Traceback" not in result.stderr


def test_bad_usage_is_exit_2() -> None:
    result = kiosk("device", "printer", "sample-receipt")
    assert result.returncode == 2
    assert result.stdout == ""


def test_against_an_independent_emulator() -> None:
    """A network printer written straight from the ESC/POS reference: fixed DLE EOT answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    received = bytearray()

    def printer() -> None:
        conn, _ = listener.accept()
        with conn:
            while chunk := conn.recv(4096):
                received.extend(chunk)
                if chunk[-3:-1] == b"\x10\x04":
                    conn.sendall(b"\x12")  # paper present, cover closed

    thread = threading.Thread(target=printer, daemon=True)
    thread.start()
    try:
        result = kiosk(
            "device",
            "printer",
            "--printer",
            f"tcp://127.0.0.1:{listener.getsockname()[1]}",
            "sample-receipt",
        )
        thread.join(timeout=10)
    finally:
        listener.close()
    assert result.returncode == 0, result.stderr
    assert bytes(received) == b"\x10\x04\x04\x10\x04\x02" + render_submission_receipt(
        SAMPLE, PAPER_80MM
    )


def test_start_from_settings_serves_the_configured_printer(tmp_path: Path) -> None:
    probe = start_printer_stub()
    port = probe.port
    probe.stop()
    settings = Settings.model_validate({"devices": {"printer": {"url": f"tcp://127.0.0.1:{port}"}}})
    stubs = start_from_settings(settings, out_dir=tmp_path)
    try:
        assert [s.name for s in stubs] == ["printer"]
        assert stubs[0].control("paper_near_end", {})["near_end"] is True
    finally:
        for s in stubs:
            s.stop()
    remote = Settings.model_validate({"devices": {"printer": {"url": "tcp://10.0.0.9:9100"}}})
    assert start_from_settings(remote) == []
