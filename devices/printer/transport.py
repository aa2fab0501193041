"""Printer transports chosen by URL; they only move bytes (python-escpos printer classes).

`tcp://HOST:PORT`  network ESC/POS (escpos Network; port 9100 when none is given)
`usb://VID:PID`    USB printer class device (escpos Usb; needs pyusb), ids in hex
`file:///path`     raw bytes appended to a file or a device node (escpos File); no status
anything else      a pyserial URL or device path (`/dev/ttyUSB0`, `socket://`, `loop://`,
                   `spy://`) through `SerialEscpos`, a small escpos backend over serial_for_url
"""

from __future__ import annotations

import contextlib
import time
from typing import Any
from urllib.parse import urlsplit

import serial
from escpos.escpos import Escpos
from escpos.exceptions import Error as EscposError
from escpos.printer import File, Network, Usb

from .errors import PrinterOffline

# pyserial's POSIX flush() calls termios.tcdrain, which raises termios.error (not an OSError) when
# a pty or USB adapter vanishes mid-write.
try:
    import termios

    _LINE_ERRORS: tuple[type[BaseException], ...] = (
        EscposError,
        OSError,
        serial.SerialException,
        termios.error,
    )
except ImportError:  # Windows
    _LINE_ERRORS = (EscposError, OSError, serial.SerialException)
# Opening also fails on a malformed URL (ValueError) or a missing pyusb (RuntimeError).
_OPEN_ERRORS: tuple[type[BaseException], ...] = (*_LINE_ERRORS, ValueError, RuntimeError)

DEFAULT_NETWORK_PORT = 9100


class SerialEscpos(Escpos):  # type: ignore[misc]  # escpos ships no type information
    """An escpos printer on any pyserial URL (escpos' own Serial class takes only device paths)."""

    def __init__(self, url: str, baudrate: int = 9600, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.url = url
        self.baudrate = baudrate
        self.port: serial.SerialBase | None = None

    def open(self, raise_not_found: bool = True) -> None:
        self.port = serial.serial_for_url(
            self.url, baudrate=self.baudrate, timeout=0.1, write_timeout=5.0
        )
        self.device = self.port

    def _raw(self, msg: bytes) -> None:
        assert self.port is not None
        self.port.write(msg)
        self.port.flush()

    def _read(self) -> bytes:
        assert self.port is not None
        return bytes(self.port.read(max(1, self.port.in_waiting)))

    def close(self) -> None:
        port, self.port = self.port, None
        self._device = False
        if port is not None:
            port.close()


class PrinterLine:
    """One open connection to a printer: write a job, read status bytes within a deadline."""

    def __init__(self, url: str, *, connect_timeout_s: float = 3.0, baudrate: int = 9600) -> None:
        self.url = url
        self._connect_timeout = connect_timeout_s
        self._baudrate = baudrate
        self._printer: Any = None
        self.can_read_status = not url.startswith("file://")

    @property
    def is_open(self) -> bool:
        return self._printer is not None

    def open(self) -> None:
        if self._printer is not None:
            return
        try:
            printer = self._build()
            printer.open()
        except _OPEN_ERRORS as err:
            raise PrinterOffline(
                f"receipt printer at {self.url} cannot be reached ({_one_line(err)}); check the "
                "cable, "
                "the power and the printer's address."
            ) from err
        self._printer = printer

    def write(self, data: bytes) -> None:
        self.open()
        try:
            self._printer._raw(data)
        except _LINE_ERRORS as err:
            self.close()
            raise PrinterOffline(
                f"receipt printer at {self.url}: sending failed ({err}); the connection was "
                "closed and will be reopened for the next job."
            ) from err

    def read(self, deadline: float) -> bytes:
        """Whatever the printer sent before `deadline` (monotonic); b"" when nothing came."""
        self.open()
        printer = self._printer
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return b""
            try:
                if isinstance(printer, Network):
                    printer.device.settimeout(min(remaining, 0.1))
                data = bytes(printer._read())
            except TimeoutError:
                continue
            except _LINE_ERRORS as err:
                self.close()
                raise PrinterOffline(
                    f"receipt printer at {self.url}: reading its status failed ({err}); the "
                    "connection was closed."
                ) from err
            if isinstance(printer, Network) and not data:
                self.close()
                raise PrinterOffline(
                    f"receipt printer at {self.url} closed the connection; it will be reopened."
                )
            if data:
                return data

    def close(self) -> None:
        printer, self._printer = self._printer, None
        if printer is None:
            return
        with contextlib.suppress(*_LINE_ERRORS):
            printer.close()

    def _build(self) -> Any:
        parts = urlsplit(self.url)
        if parts.scheme == "tcp":
            if not parts.hostname:
                raise ValueError("a tcp:// printer URL needs a host, e.g. tcp://192.168.1.50:9100")
            return Network(
                parts.hostname,
                port=parts.port or DEFAULT_NETWORK_PORT,
                timeout=self._connect_timeout,
            )
        if parts.scheme == "usb":
            vendor, _, product = parts.netloc.partition(":")
            return Usb(int(vendor, 16), int(product, 16))
        if parts.scheme == "file":
            return File(parts.path, auto_flush=True)
        return SerialEscpos(self.url, baudrate=self._baudrate)


def _one_line(err: BaseException) -> str:
    """escpos puts newlines in its messages; a technician's sentence stays on one line."""
    return " ".join(str(err).split())
