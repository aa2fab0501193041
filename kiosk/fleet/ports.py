"""What remote commands act on: ports the composition root (or the simulator) implements.

Each port is named by its role; none of them knows about MQTT. The compartment port is the subset
of `CompartmentService` the commands use, so the real service fits it as it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from kiosk.compartments.model import Compartment, DoorOpening
from kiosk.ports.health import DeviceHealth
from kiosk.storage import Actor


class RemoteCompartments(Protocol):
    def open_door(self, number: int, *, actor: Actor, reason: str) -> DoorOpening: ...

    def take_out_of_service(self, number: int, *, actor: Actor, reason: str) -> None: ...

    def return_to_service(self, number: int, *, actor: Actor, note: str) -> Compartment: ...


class TestPagePrinter(Protocol):
    def print_test_page(self) -> str:
        """Print a test sheet; return a line for the reply; raise CommandFailed if it cannot."""


class SelfTest(Protocol):
    def run_self_test(self) -> Sequence[DeviceHealth]:
        """Ask every device for a fresh status now (blocking, a few seconds at most)."""


class ScreenCapture(Protocol):
    def capture_png(self) -> bytes:
        """The current screen as PNG (the UI thread renders it; this call waits for it)."""


class OutOfServiceNotice(Protocol):
    def set_out_of_service(self, active: bool, message_zh: str, message_en: str) -> None:
        """Show (or remove) the polite 'temporarily out of service' notice on every screen."""


class RemoteConfigTarget(Protocol):
    def apply_remote_config(self, values: Mapping[str, Any]) -> None:
        """Apply whitelisted settings (see kiosk/fleet/remote_config.py) to the running app."""

    def reload_local_config(self) -> Mapping[str, Any]:
        """Read the configuration file again; return the whitelisted values it now holds."""


class Restarter(Protocol):
    def request_restart(self, exit_code: int) -> None:
        """Leave the app with `exit_code` after an orderly stop; the service manager restarts it."""


class LogTail(Protocol):
    def last_lines(self, count: int) -> Sequence[str]: ...
