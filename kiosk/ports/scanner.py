"""The barcode-scanner port: a serial scanner (hand-held or built in) reading pickup codes.

A serial scanner reports what it read as `CodeScanned`, the same event the camera publishes, so a
pickup flow does not care which of the two saw the code. A serial scanner does not say which
symbology it read, so its events carry `SCANNER_FORMAT` as the format.
"""

from __future__ import annotations

from typing import Protocol

from .camera import CodeScanned
from .health import DeviceHealth, EventSink

__all__ = ["SCANNER_FORMAT", "BarcodeScanner", "CodeScanned"]

SCANNER_FORMAT = "Unknown"


class BarcodeScanner(Protocol):
    """One scanner. Codes arrive as events on the adapter's thread; calls return quickly."""

    def start(self, sink: EventSink) -> None:
        """Open the port (retrying in the background); codes and health changes go to `sink`."""

    def stop(self) -> None: ...

    def set_scanning(self, active: bool) -> None:
        """Switch the beam on or off for scanners in manual-trigger mode (no-op for others)."""

    def health(self) -> DeviceHealth: ...
