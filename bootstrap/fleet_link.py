"""The terminal's fleet link, built from the settings: part of the composition root (issue 7).

`build_fleet_link(...)` returns None when `[fleet] enabled = false`. Otherwise it wires the core
(`kiosk.fleet`: telemetry, alerts, signed commands with their ledger, remote configuration) to the
MQTT adapter (`backend_client.fleet_mqtt`) over the terminal's own parts: the device drivers'
health, the compartment service, the hall outbox, and the UI's ports (screenshot, the
out-of-service notice, restart) that the shell provides. Start it after the first frame, stop it
before the database closes (its tables are in the terminal's database, migration 0009).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from backend_client.fleet_mqtt import (
    BrokerSettings,
    FleetMqttLink,
    read_password_file,
    read_system_figures,
)
from kiosk import __version__
from kiosk.compartments import CompartmentService
from kiosk.config import Settings
from kiosk.fleet import (
    AlertThresholds,
    CommandPorts,
    CommandProcessor,
    FleetTelemetry,
    RemoteConfig,
    RingLogHandler,
    SqliteFleetStore,
    SubmissionsToday,
    build_handlers,
    device_id_for,
    load_public_key,
)
from kiosk.fleet.ports import OutOfServiceNotice, RemoteConfigTarget, Restarter, ScreenCapture
from kiosk.fleet.snapshot import NamedHealth, SnapshotSources, build_snapshot
from kiosk.outbox import Outbox
from kiosk.ports.health import DeviceHealth, EventSink, HealthReporting
from kiosk.ports.printer import ReceiptPrinter
from kiosk.storage import Database

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TestSheet:
    """The printed test page: the terminal's name and the time, so a photo of it proves which."""

    title: str
    lines: tuple[str, ...]
    terminal_name: str
    hotline: str


class PrinterTestPage:
    def __init__(self, printer: ReceiptPrinter, settings: Settings) -> None:
        self._printer = printer
        self._settings = settings

    def print_test_page(self) -> str:
        now = datetime.now(UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")
        terminal = self._settings.terminal
        self._printer.print_guide(
            TestSheet(
                title="打印测试 / Test page",
                lines=(f"{terminal.id}", now, "远程打印测试 · printed on a technician's request"),
                terminal_name=terminal.name_zh,
                hotline=terminal.hotline,
            )
        )
        return f"test page printed at {now}"


class DeviceSelfTest:
    """Ask the printer for its paper now (the others report continuously), then read all health."""

    def __init__(self, devices: Mapping[str, HealthReporting], printer: ReceiptPrinter | None):
        self._devices = devices
        self._printer = printer

    def run_self_test(self) -> list[DeviceHealth]:
        if self._printer is not None:
            try:
                self._printer.paper_status()
            except Exception as err:  # noqa: BLE001 - the failure is in its health, read below
                _log.info("self-test: the printer did not answer (%s)", err)
        return [device.health() for device in self._devices.values()]


@dataclass
class FleetLink:
    link: FleetMqttLink
    ring: RingLogHandler
    remote_config: RemoteConfig

    def start(self) -> None:
        self.remote_config.reapply()
        self.link.start()

    def stop(self) -> None:
        self.link.stop()
        logging.getLogger().removeHandler(self.ring)

    def event_sink(self, forward: EventSink | None = None) -> EventSink:
        """Wrap the device event sink: any device or door event refreshes telemetry at once.

        Events are rare (a door moves, a health changes), and a snapshot is one database read,
        so every event nudges rather than a list of types that would go stale.
        """

        def sink(event: object) -> None:
            if forward is not None:
                forward(event)
            self.link.nudge()

        return sink


def build_fleet_link(
    settings: Settings,
    database: Database,
    *,
    devices: Mapping[str, HealthReporting],
    columns: Sequence[NamedHealth],
    compartments: CompartmentService,
    outbox: Outbox | None = None,
    printer: ReceiptPrinter | None = None,
    screen: ScreenCapture | None = None,
    notice: OutOfServiceNotice | None = None,
    config_target: RemoteConfigTarget | None = None,
    restarter: Restarter | None = None,
    data_dir: str = "",
    ring: RingLogHandler | None = None,
) -> FleetLink | None:
    """`devices` by node name: printer, idcard, sscard, scanner, camera (absent ones left out)."""
    fleet = settings.fleet
    if not fleet.enabled:
        return None
    device_id = device_id_for(settings.terminal.id, fleet.device_id)
    store = SqliteFleetStore(database)
    # set out of service remotely survives a restart: the notice is re-shown at start-up
    saved = store.load_document("out_of_service") or {}
    out_of_service = {"active": bool(saved.get("active", False))}

    class _Notice:
        def set_out_of_service(self, active: bool, message_zh: str, message_en: str) -> None:
            out_of_service["active"] = active
            store.save_document(
                "out_of_service", {"active": active, "zh": message_zh, "en": message_en}
            )
            if notice is not None:
                notice.set_out_of_service(active, message_zh, message_en)

    if out_of_service["active"] and notice is not None:
        notice.set_out_of_service(True, str(saved.get("zh", "")), str(saved.get("en", "")))

    remote_config = RemoteConfig(
        store, config_target.apply_remote_config if config_target is not None else None
    )
    ring = ring or RingLogHandler()
    ports = CommandPorts(
        compartments=compartments,
        printer=PrinterTestPage(printer, settings) if printer is not None else None,
        self_test=DeviceSelfTest(devices, printer),
        screen=screen,
        logs=ring,
        config=remote_config,
        config_target=config_target,
        restarter=restarter,
        notice=_Notice(),
    )
    processor = CommandProcessor(
        store, load_public_key(fleet.console_public_key), build_handlers(ports), clock=time.time
    )
    telemetry = FleetTelemetry(
        device_id,
        store,
        heartbeat_s=fleet.heartbeat_s,
        thresholds=AlertThresholds(outbox_stale_s=settings.hall.stale_after_s),
    )

    def system() -> tuple[float | None, float | None]:
        figures = read_system_figures(data_dir or str(database.path.parent))
        return figures.disk_free_mb, figures.cpu_temperature_c

    sources = SnapshotSources(
        name=settings.terminal.name_zh,
        app_version=__version__,
        boot_time=datetime.now(UTC),
        devices=devices,
        columns=columns,
        compartments=compartments.compartments,
        outbox=outbox.stats if outbox is not None else None,
        system=system,
        out_of_service=lambda: out_of_service["active"],
        config_version=lambda: remote_config.reported.version,
        submissions_today=SubmissionsToday(database).count,
    )
    broker = BrokerSettings(
        fleet.broker_url,
        username=fleet.username or device_id,
        password=read_password_file(fleet.password_file),
        ca_file=fleet.ca_file,
        client_cert_file=fleet.client_cert_file,
        client_key_file=fleet.client_key_file,
        keepalive_s=fleet.keepalive_s,
    )
    link = FleetMqttLink(telemetry, processor, lambda: build_snapshot(sources), broker)
    ring.set_forward(link.log_record, logging.getLevelName(fleet.log_level_published.upper()))
    root = logging.getLogger()
    if ring not in root.handlers:
        root.addHandler(ring)
    return FleetLink(link, ring, remote_config)
