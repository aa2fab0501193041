"""The serial barcode scanner driver: codes become `CodeScanned` events, health follows the line.

A scanner only talks when it reads something, so there is no request/response here: every frame
the codec completes goes straight to the event sink. The shared `SerialLink` reopens the port after
an unplug and drops a code cut in half by it (its decoder is reset), so a half code is never
published. Trigger commands are written only when asked (manual-trigger mode).
"""

from __future__ import annotations

from devices.serial_link import SerialLink
from kiosk.ports.health import DeviceHealth, DeviceHealthChanged, EventSink
from kiosk.ports.scanner import SCANNER_FORMAT, CodeScanned

from .codec import DEFAULT_MAX_LENGTH, TRIGGER_OFF, TRIGGER_ON, ScannerDecoder, code_text

DEVICE_NAME = "barcode scanner"


class SerialBarcodeScanner:
    """Implements the `BarcodeScanner` port over any pyserial URL."""

    def __init__(
        self,
        url: str,
        *,
        baudrate: int = 9600,
        max_length: int = DEFAULT_MAX_LENGTH,
        backoff_max_s: float = 1.0,
    ) -> None:
        self._sink: EventSink | None = None
        self._decoder = ScannerDecoder(max_length)
        self._link: SerialLink[bytes] = SerialLink(
            url,
            self._decoder,
            device=DEVICE_NAME,
            baudrate=baudrate,
            on_frame=self._publish_code,
            on_health=self._publish_health,
            backoff_max_s=backoff_max_s,
        )

    @property
    def url(self) -> str:
        return self._link.url

    def start(self, sink: EventSink) -> None:
        self._sink = sink
        self._link.start()

    def stop(self) -> None:
        self._link.stop()

    def wait_open(self, timeout: float) -> bool:
        return self._link.wait_open(timeout)

    def set_scanning(self, active: bool) -> None:
        """Raises DeviceOffline (a DeviceError) with a sentence when the line is down."""
        self._link.write(TRIGGER_ON if active else TRIGGER_OFF)

    def health(self) -> DeviceHealth:
        return self._link.health()

    @property
    def dropped_codes(self) -> int:
        """Codes thrown away for exceeding the length guard (a scanner without a suffix)."""
        return self._decoder.dropped

    def _publish_code(self, code: bytes) -> None:
        if self._sink is None:
            return
        text, raw = code_text(code)
        self._sink(CodeScanned(format=SCANNER_FORMAT, text=text, raw=raw))

    def _publish_health(self, health: DeviceHealth) -> None:
        if self._sink is not None:
            self._sink(DeviceHealthChanged(health))
