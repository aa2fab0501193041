"""Gather a `TerminalSnapshot` from the running terminal's parts, through small read-only ports.

Kept apart from the composition root so the simulator builds its light terminals the same way the
kiosk does. Every source is cheap and non-blocking (drivers report their last known health; the
compartment list is one database read), because this runs every few seconds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Protocol

from kiosk.compartments.model import Compartment
from kiosk.outbox import OutboxStats
from kiosk.ports.health import DeviceHealth, HealthReporting, HealthState

from .model import ColumnReport, DoorReport, TerminalSnapshot


class NamedHealth(Protocol):
    @property
    def name(self) -> str: ...

    def health(self) -> DeviceHealth: ...


def paper_from_health(health: DeviceHealth) -> str:
    """The printer driver folds its paper sensor into health; read it back for the paper value.

    OK → ok, DEGRADED → near-end (the driver's only degraded cause), FAULT naming paper → out;
    anything else (cover open, offline) leaves the paper unknown.
    """
    if health.state is HealthState.OK:
        return "ok"
    if health.state is HealthState.DEGRADED:
        return "near-end"
    if health.state is HealthState.FAULT and "paper" in health.reason.lower():
        return "out"
    return "unknown"


@dataclass(frozen=True)
class SnapshotSources:
    name: str
    app_version: str
    boot_time: datetime
    devices: Mapping[str, HealthReporting] = field(default_factory=lambda: MappingProxyType({}))
    columns: Sequence[NamedHealth] = ()
    compartments: Callable[[], Sequence[Compartment]] | None = None
    outbox: Callable[[], OutboxStats] | None = None
    system: Callable[[], tuple[float | None, float | None]] | None = None
    out_of_service: Callable[[], bool] | None = None
    config_version: Callable[[], int] | None = None
    submissions_today: Callable[[], int] | None = None


def build_snapshot(sources: SnapshotSources) -> TerminalSnapshot:
    devices = {name: device.health() for name, device in sources.devices.items()}
    printer = devices.get("printer")
    doors: list[DoorReport] = []
    if sources.compartments is not None:
        for c in sources.compartments():
            if not c.in_map:
                continue
            doors.append(
                DoorReport(
                    number=c.number,
                    column=c.column,
                    row=c.row,
                    col=c.col,
                    size=c.size,
                    door=c.door.value,
                    item=c.item_present,
                    state=c.state.value,
                    service_note=c.service_note,
                    attention=c.attention,
                )
            )
    stats = sources.outbox() if sources.outbox is not None else None
    disk, temperature = sources.system() if sources.system is not None else (None, None)
    return TerminalSnapshot(
        name=sources.name,
        app_version=sources.app_version,
        boot_time=sources.boot_time,
        devices=MappingProxyType(devices),
        paper=paper_from_health(printer) if printer is not None else "unknown",
        columns=tuple(ColumnReport(c.name, c.health()) for c in sources.columns),
        doors=tuple(doors),
        outbox_size=stats.size if stats else 0,
        outbox_parked=stats.parked if stats else 0,
        outbox_age_s=stats.oldest_age_s if stats else 0.0,
        disk_free_mb=disk,
        cpu_temperature_c=temperature,
        out_of_service=sources.out_of_service() if sources.out_of_service else False,
        config_version=sources.config_version() if sources.config_version else 0,
        submissions_today=sources.submissions_today() if sources.submissions_today else None,
    )
