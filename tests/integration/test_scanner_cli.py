"""`kiosk device scanner … listen` in a subprocess: the JSON contract, exit codes, an emulator."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import pytest

from firmware_stubs.scanner import start_scanner_stub
from firmware_stubs.serial_stub import SerialStubServer

KIOSK = [sys.executable, "-m", "bootstrap"]


def kiosk(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*KIOSK, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def stub() -> Iterator[SerialStubServer]:
    server = start_scanner_stub()
    try:
        yield server
    finally:
        server.stop()


def test_listen_prints_the_codes_without_their_suffix(stub: SerialStubServer) -> None:
    process = subprocess.Popen(
        [
            *KIOSK,
            "device",
            "scanner",
            "--port",
            stub.url,
            "listen",
            "--count",
            "3",
            "--timeout",
            "30",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    ready = process.stderr.readline()  # blocks until the port is open (or the process ended)
    assert "scan now" in ready, ready
    stub.control("scan_many", {"codes": ["PK-0042", "取件码 7731"], "suffix": "CRLF"})
    stub.control("scan", {"code": "6901234567892", "suffix": "LF"})
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert json.loads(out) == {"codes": ["PK-0042", "取件码 7731", "6901234567892"]}
    assert "Traceback" not in err


def test_nothing_scanned_is_an_empty_list(stub: SerialStubServer) -> None:
    result = kiosk("device", "scanner", "--port", stub.url, "listen", "--timeout", "0.5")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"codes": []}


def test_an_unopenable_port_is_exit_1_with_a_sentence() -> None:
    result = kiosk(
        "device", "scanner", "--port", "socket://127.0.0.1:1", "listen", "--timeout", "0.5"
    )
    assert result.returncode == 1
    error = json.loads(result.stdout)["error"]
    assert "socket://127.0.0.1:1" in error
    assert "barcode scanner" in error
    assert "Traceback" not in result.stderr


def test_bad_usage_is_exit_2() -> None:
    result = kiosk("device", "scanner", "--port", "loop://", "listen", "--count", "0")
    assert result.returncode == 2
    assert result.stdout == ""


def test_against_an_independent_emulator() -> None:
    """A scanner written straight from the spec: raw code bytes, then a suffix, in odd chunks.

    It is in manual-trigger mode: it reads only after SYN T CR (16 54 0D), which also tells it the
    CLI has the port open (pyserial drops whatever arrived before that).
    """
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def scanner() -> None:
        conn, _ = listener.accept()
        with conn:
            request = b""
            while not request.endswith(b"\x16T\r"):
                request += conn.recv(16)
            for chunk in (b"ABC\r", b"\nDE", b"F\n", b"G", b"HI\r\n"):
                conn.sendall(chunk)
                time.sleep(0.01)  # separate reads, as a slow UART delivers them
            conn.recv(16)  # stay connected until the CLI closes

    thread = threading.Thread(target=scanner, daemon=True)
    thread.start()
    try:
        result = kiosk(
            "device",
            "scanner",
            "--port",
            f"socket://127.0.0.1:{port}",
            "listen",
            "--count",
            "3",
            "--timeout",
            "30",
            "--trigger",
        )
    finally:
        listener.close()
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"codes": ["ABC", "DEF", "GHI"]}
