"""Device health as every driver reports it: one vocabulary for the UI and for remote monitoring."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class HealthState(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"  # works, but someone should look (paper near end, slow replies)
    FAULT = "fault"  # answers, but cannot do its job (paper out, cover open, lock jammed)
    OFFLINE = "offline"  # does not answer at all (unplugged, powered off, wrong port)


@dataclass(frozen=True)
class DeviceHealth:
    """A frozen snapshot: `reason` is a sentence a technician can act on (empty when ok)."""

    device: str
    state: HealthState
    reason: str = ""
    since: float = 0.0  # monotonic seconds when the state began


@dataclass(frozen=True)
class DeviceHealthChanged:
    """Published whenever a device's health state or reason changes."""

    health: DeviceHealth


class EventSink(Protocol):
    """Where adapters publish events; safe to call from any thread (the UI bridge implements it)."""

    def __call__(self, event: object, /) -> None: ...


class HealthReporting(Protocol):
    def health(self) -> DeviceHealth: ...
