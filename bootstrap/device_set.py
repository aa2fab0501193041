"""The terminal's devices, built from the settings: part of the composition root.

Only `bootstrap.composition` calls `build_devices`; nothing else constructs a driver. Every driver
implements its port from kiosk/ports/ and the same `start(sink)` / `stop()` life cycle, so the
terminal starts and stops them as one set and each publishes its events and health changes to the
one sink (the UI bridge).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

from kiosk.config import Settings
from kiosk.ports.camera import Camera
from kiosk.ports.health import DeviceHealth, EventSink
from kiosk.ports.identity import CardReader
from kiosk.ports.lockers import LockerColumn
from kiosk.ports.printer import ReceiptPrinter

_log = logging.getLogger(__name__)


@runtime_checkable
class Startable(Protocol):
    def start(self, sink: EventSink) -> None: ...

    def stop(self) -> None: ...

    def health(self) -> DeviceHealth: ...


@dataclass
class DeviceSet:
    """Every device of one terminal; absent ones are disabled in the settings."""

    locker_columns: list[LockerColumn]
    card_readers: list[CardReader]
    printer: ReceiptPrinter | None
    camera: Camera | None
    scanner: Startable | None
    started: list[Startable] = field(default_factory=list)

    def all(self) -> list[Startable]:
        devices: list[object] = [*self.locker_columns, *self.card_readers]
        devices += [d for d in (self.printer, self.camera, self.scanner) if d is not None]
        return [d for d in devices if isinstance(d, Startable)]

    def start(self, sink: EventSink) -> None:
        """Start every device; one that fails to start is logged and left offline, never fatal."""
        for device in self.all():
            try:
                device.start(sink)
            except Exception:  # noqa: BLE001 - a broken driver must not keep the terminal dark
                _log.exception("starting %s failed; it stays offline", type(device).__name__)
                continue
            self.started.append(device)

    def stop(self) -> None:
        for device in reversed(self.started):
            try:
                device.stop()
            except Exception:  # noqa: BLE001 - stopping the rest matters more
                _log.exception("stopping %s failed", type(device).__name__)
        self.started.clear()

    def health(self) -> list[DeviceHealth]:
        return [device.health() for device in self.all()]


def build_devices(settings: Settings, data_folder: Path) -> DeviceSet:
    devices = settings.devices
    columns: list[LockerColumn] = []
    for column in devices.locker_columns:
        if column.transport == "serial":
            from devices.lockers.column import SerialLockerColumn

            columns.append(
                SerialLockerColumn.from_settings(
                    column,
                    fast_poll_s=column.fast_poll_s,
                    idle_poll_s=column.idle_poll_s,
                    alarm_window_s=column.alarm_window_s,
                )
            )
        else:
            from devices.mqtt_lockers.driver import column_from_settings

            columns.append(column_from_settings(column, settings.terminal.id))

    readers: list[CardReader] = []
    if devices.idcard.enabled:
        from devices.idcard.driver import IdCardReader

        readers.append(IdCardReader(devices.idcard.port, baudrate=devices.idcard.baud))
    if devices.sscard.enabled:
        from devices.sscard.pcsc import PcscTransport
        from devices.sscard.reader import SocialSecurityCardReader

        readers.append(
            SocialSecurityCardReader(
                PcscTransport(devices.sscard.reader),
                poll_interval_s=devices.sscard.poll_interval_s,
            )
        )

    printer: ReceiptPrinter | None = None
    if devices.printer.enabled:
        from devices.printer.driver import EscposReceiptPrinter
        from devices.printer.template import PAPER_WIDTHS

        printer = EscposReceiptPrinter(
            devices.printer.url,
            paper=PAPER_WIDTHS[devices.printer.paper_mm],
            poll_interval_s=devices.printer.poll_interval_s,
        )

    camera: Camera | None = None
    if devices.camera.enabled:
        from devices.camera.driver import CameraDriver, CameraOptions
        from devices.camera.sources import source_from_spec

        cam = devices.camera
        pages_root = Path(cam.pages_dir) if cam.pages_dir else data_folder / "pages"
        camera = CameraDriver(
            source_from_spec(cam.source, cam.fps),
            pages_root,
            options=CameraOptions(
                formats=tuple(cam.formats),
                duplicate_window_s=cam.duplicate_window_s,
                steady_frames=cam.steady_frames,
            ),
        )

    scanner: Startable | None = None
    if devices.scanner.enabled:
        from devices.scanner.driver import SerialBarcodeScanner

        scanner = SerialBarcodeScanner(devices.scanner.port, baudrate=devices.scanner.baud)

    return DeviceSet(columns, readers, printer, camera, scanner)
