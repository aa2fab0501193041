"""`kiosk device locker` in a subprocess against boards emulated straight from the protocol text.

The emulator below is deliberately independent of `devices.lockers` and of the firmware stub: it
builds every reply from the frame descriptions in the device issue, so a mistake made the same
way in the codec and the stub cannot pass here.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from devices.lockers.protocols import protocol_by_name
from firmware_stubs.lockers import LockerBusFirmware
from firmware_stubs.serial_stub import SerialStubServer

ROOT = Path(__file__).resolve().parents[2]


class IndependentBoard:
    """One board at `address`, 16 locks; answers 5-byte requests over TCP."""

    def __init__(self, protocol: str, address: int) -> None:
        self.protocol = protocol
        self.address = address
        self.open_doors: set[int] = set()
        self.jammed: set[int] = set()
        self.items: set[int] = set()
        self.ignore_unlocks = False
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"socket://127.0.0.1:{self._listener.getsockname()[1]}"

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(0.1)
                pending = b""
                while not self._stop.is_set():
                    try:
                        chunk = conn.recv(64)
                    except TimeoutError:
                        continue
                    if not chunk:
                        break
                    pending += chunk
                    while len(pending) >= 5:
                        request, pending = pending[:5], pending[5:]
                        conn.sendall(self._reply(request))

    def _mask(self, locks: set[int], width: int) -> int:
        return sum(1 << (lock - 1) for lock in locks if lock <= width)

    def _reply(self, request: bytes) -> bytes:
        if self.protocol == "kerong-cu16":
            _, address, command, _, _ = request
            if address >> 4 != self.address:
                return b""
            if command == 0x31:
                if self.ignore_unlocks:
                    return b""
                lock = (address & 0x0F) + 1
                if lock not in self.jammed:
                    self.open_doors.add(lock)
            closed = 0xFFFF & ~self._mask(self.open_doors, 16)
            items = self._mask(self.items, 16)
            body = bytes([0x02, address, command, closed & 0xFF, closed >> 8])
            body += bytes([items & 0xFF, items >> 8, 0x03])
            return body + bytes([sum(body) & 0xFF])
        head, address, channel, _, _ = request
        if address != self.address:
            return b""
        if head == 0x8A:
            if self.ignore_unlocks:
                return b""
            if channel not in self.jammed:
                self.open_doors.add(channel)
            body = bytes([0x8A, address, channel, 0x00 if channel in self.open_doors else 0x11])
        else:
            closed = 0xFFFF & ~self._mask(self.open_doors, 16)
            body = bytes([0x80, address, closed >> 8, closed & 0xFF, 0x33])  # S2 then S1
        bcc = 0
        for byte in body:
            bcc ^= byte
        return body + bytes([bcc])


def kiosk(*args: str, timeout: float = 60) -> tuple[int, Any, str]:
    done = subprocess.run(
        [sys.executable, "-m", "bootstrap", "device", "locker", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )
    assert "Traceback" not in done.stderr
    document = json.loads(done.stdout) if done.stdout.strip() else None
    return done.returncode, document, done.stderr


@pytest.fixture(params=["kerong-cu16", "rs485-8a"])
def board(request: pytest.FixtureRequest) -> Iterator[IndependentBoard]:
    emulator = IndependentBoard(request.param, address=3)
    yield emulator
    emulator.close()


def test_status_reads_doors_and_items(board: IndependentBoard) -> None:
    board.open_doors = {2, 10}
    board.items = {1}
    code, document, _ = kiosk(
        "--port", board.url, "--protocol", board.protocol, "--board", "3", "status"
    )
    assert code == 0
    assert document["board"] == 3
    doors = document["doors"]
    assert doors["1"] == "closed"
    assert doors["2"] == "open"
    assert doors["10"] == "open"
    if board.protocol == "kerong-cu16":
        assert len(doors) == 16
        assert document["items"] == {str(n): n == 1 for n in range(1, 17)}
    else:
        assert len(doors) == 16  # two status bytes sent: channels 1-16
        assert document["items"] is None


def test_unlock_outcomes(board: IndependentBoard) -> None:
    base = ["--port", board.url, "--protocol", board.protocol, "--board", "3", "unlock"]
    board.open_doors = {2}
    board.jammed = {4}
    assert kiosk(*base, "1")[:2] == (0, {"board": 3, "lock": 1, "outcome": "opened"})
    assert kiosk(*base, "2")[:2] == (0, {"board": 3, "lock": 2, "outcome": "already_open"})
    assert kiosk(*base, "4")[:2] == (0, {"board": 3, "lock": 4, "outcome": "jammed"})
    board.ignore_unlocks = True
    code, document, _ = kiosk(*base[:-1], "--timeout", "0.3", "unlock", "5")
    assert (code, document) == (0, {"board": 3, "lock": 5, "outcome": "unknown"})


def test_a_board_that_does_not_answer_is_exit_1_with_a_sentence(board: IndependentBoard) -> None:
    code, document, _ = kiosk(
        "--port",
        board.url,
        "--protocol",
        board.protocol,
        "--board",
        "7",
        "--timeout",
        "0.3",
        "status",
    )
    assert code == 1
    assert f"lock board 7 ({board.protocol}) on {board.url} did not answer" in document["error"]


def test_a_port_that_cannot_be_opened_is_exit_1_naming_it(tmp_path: Path) -> None:
    missing = str(tmp_path / "ttyUSB9")
    code, document, _ = kiosk(
        "--port", missing, "--protocol", "kerong-cu16", "--timeout", "0.3", "status"
    )
    assert code == 1
    assert missing in document["error"]
    assert "not connected" in document["error"]


BAD_USAGE = [
    ["--protocol", "kerong-cu16", "unlock", "17"],  # a CU16 board has locks 1-16
    ["--protocol", "kerong-cu16", "unlock", "0"],
    ["--protocol", "rs485-8a", "unlock", "25"],  # 24 channels unless told otherwise
    ["--protocol", "kerong-cu16", "--board", "16", "status"],
    ["--protocol", "modbus", "status"],
    ["--protocol", "kerong-cu16", "--baud", "fast", "status"],
]


def test_bad_usage_is_exit_2_with_nothing_on_stdout() -> None:
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(lambda a: kiosk("--port", "socket://127.0.0.1:9", *a), BAD_USAGE))
    for args, (code, document, stderr) in zip(BAD_USAGE, results, strict=True):
        assert (code, document) == (2, None), args
        assert "error:" in stderr, args


def test_status_against_the_firmware_stub_over_a_pty(tmp_path: Path) -> None:
    protocol = protocol_by_name("rs485-8a", 24)
    firmware = LockerBusFirmware(protocol, {0: 24}, status_bytes=4)  # more bytes than channels
    firmware.control("open_door", {"board": 0, "lock": 24})
    with SerialStubServer(firmware, use_pty=True, pty_link=str(tmp_path / "ttyRS485")) as stub:
        code, document, _ = kiosk(
            "--port", stub.url, "--protocol", "rs485-8a", "--baud", "9600", "status"
        )
    assert code == 0
    assert len(document["doors"]) == 24
    assert [lock for lock, door in document["doors"].items() if door == "open"] == ["24"]
