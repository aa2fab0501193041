"""Start every firmware stub a configuration points at, with one control server on loopback.

Used by `kiosk stubs start` and by the demo. Each device's stub module offers
`start_from_settings(settings)`, which starts the stubs for the loopback URLs the configuration
names (a real device path is left alone) and returns objects with `name`, `control()` and `stop()`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from kiosk.config import Settings

from .control import DEFAULT_CONTROL_PORT, StubControlServer

STUB_MODULES = ("lockers", "mqtt_locker_column", "idcard", "scanner", "printer", "camera")


class RunningStub(Protocol):
    name: str

    def control(self, command: str, args: dict[str, object]) -> dict[str, object]: ...

    def stop(self) -> None: ...


@dataclass
class StubSet:
    control: StubControlServer
    stubs: list[RunningStub] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return [stub.name for stub in self.stubs]

    def stop(self) -> None:
        for stub in reversed(self.stubs):
            stub.stop()
        self.control.stop()


def start_stubs(
    settings: Settings,
    control_port: int = DEFAULT_CONTROL_PORT,
    options: dict[str, dict[str, Any]] | None = None,
) -> StubSet:
    """Start the stubs; `options` gives extra keyword arguments per module (printer out_dir)."""
    control = StubControlServer({}, port=control_port).start()
    started = StubSet(control)
    try:
        for module_name in STUB_MODULES:
            module = importlib.import_module(f"{__package__}.{module_name}")
            start: Callable[..., list[RunningStub]] = module.start_from_settings
            for stub in start(settings, **(options or {}).get(module_name, {})):
                started.stubs.append(stub)
                control.add(stub.name, stub.control)
    except BaseException:
        started.stop()
        raise
    return started
