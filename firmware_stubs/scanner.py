"""An emulated serial barcode scanner: codes sent with a chosen suffix, trigger commands honoured.

A real scanner sends each decoded code followed by its configured suffix (CR, LF or CR LF), and in
manual-trigger mode reads only between the Honeywell trigger commands SYN T CR and SYN U CR. The
controls let a test or a person "hold a code under the beam": scan one code, a burst of codes in
one write (as a scanner with a buffer does), or — with the line fault `split` — byte by byte.

Controls: scan {code, suffix}, scan_many {codes, suffix}, manual_trigger {on}, status; plus the
line faults of SerialStubServer (silence, unplug, replug, split, noise).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from devices.scanner.codec import TRIGGER_OFF, TRIGGER_ON

from .serial_stub import SerialStubServer

SUFFIXES = {"CR": b"\r", "LF": b"\n", "CRLF": b"\r\n", "": b""}


def suffix_bytes(name: object) -> bytes:
    key = str(name if name is not None else "CR").upper()
    if key not in SUFFIXES:
        raise ValueError(f"suffix must be one of CR, LF, CRLF or empty, not {name!r}")
    return SUFFIXES[key]


@dataclass
class ScannerFirmware:
    manual_trigger: bool = False
    triggered: bool = False
    trigger_commands: list[str] = field(default_factory=list)
    _push: Any = None
    _buffer: bytearray = field(default_factory=bytearray)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def attach(self, server: SerialStubServer) -> None:
        self._push = server.push

    def feed(self, data: bytes) -> bytes:
        """The terminal only ever sends trigger commands; anything else is ignored."""
        with self._lock:
            self._buffer += data
            while b"\r" in self._buffer:
                command, _, rest = bytes(self._buffer).partition(b"\r")
                self._buffer[:] = rest
                command += b"\r"
                if command.endswith(TRIGGER_ON):
                    self.triggered = True
                    self.trigger_commands.append("on")
                elif command.endswith(TRIGGER_OFF):
                    self.triggered = False
                    self.trigger_commands.append("off")
            del self._buffer[:-16]  # garbage without CR must not pile up
        return b""

    def control(self, command: str, args: dict[str, object]) -> dict[str, object]:
        if command == "scan":
            return self._send([str(args["code"])], args.get("suffix"))
        if command == "scan_many":
            codes = args.get("codes")
            if not isinstance(codes, list):
                raise ValueError("scan_many needs codes: a list of strings")
            return self._send([str(code) for code in codes], args.get("suffix"))
        if command == "manual_trigger":
            self.manual_trigger = bool(args.get("on", True))
        elif command != "status":
            raise KeyError(f"the scanner stub has no control {command!r}")
        return {
            "ok": True,
            "manual_trigger": self.manual_trigger,
            "triggered": self.triggered,
            "trigger_commands": list(self.trigger_commands),
        }

    def _send(self, codes: list[str], suffix: object) -> dict[str, object]:
        if self.manual_trigger and not self.triggered:
            return {"ok": True, "sent": 0, "reason": "manual-trigger mode and the beam is off"}
        if self._push is None:
            raise ValueError("the scanner firmware is not attached to a line")
        end = suffix_bytes(suffix)
        self._push(b"".join(code.encode("utf-8") + end for code in codes))
        return {"ok": True, "sent": len(codes)}


def start_scanner_stub(
    port: int = 0, use_pty: bool = False, pty_link: str | None = None
) -> SerialStubServer:
    firmware = ScannerFirmware()
    server = SerialStubServer(
        firmware, port=port, use_pty=use_pty, pty_link=pty_link, name="scanner"
    )
    firmware.attach(server)
    return server.start()


def start_from_settings(settings: Any) -> list[SerialStubServer]:
    """The stub the configured scanner port points at (only a loopback socket:// URL)."""
    scanner = settings.devices.scanner
    if not scanner.enabled:
        return []
    parts = urlsplit(scanner.port)
    if (
        parts.scheme != "socket"
        or parts.hostname not in ("127.0.0.1", "localhost")
        or not parts.port
    ):
        return []
    return [start_scanner_stub(parts.port)]
