"""The demo configuration's devices, built by the composition root, all come up on their stubs."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bootstrap.device_set import DeviceSet, build_devices
from firmware_stubs.launcher import StubSet, start_stubs
from firmware_stubs.loopback import free_port
from kiosk.config import Settings, settings_from_mapping
from kiosk.ports.health import DeviceHealthChanged, HealthState


def demo_settings_on_free_ports(data_dir: Path) -> Settings:
    """The demo defaults, moved to free ports so parallel runs and a running demo don't collide."""
    return settings_from_mapping(
        {
            "storage": {"data_dir": str(data_dir)},
            "devices": {
                "locker_columns": [{"name": "A", "port": f"socket://127.0.0.1:{free_port()}"}],
                "idcard": {"port": f"socket://127.0.0.1:{free_port()}", "baud": 115200},
                "scanner": {"port": f"socket://127.0.0.1:{free_port()}"},
                "printer": {"url": f"tcp://127.0.0.1:{free_port()}"},
                "camera": {"source": f"http://127.0.0.1:{free_port()}/stream.mjpg"},
            },
        }
    )


@pytest.fixture
def settings_and_stubs(tmp_path: Path) -> Iterator[tuple[Settings, StubSet]]:
    for attempt in range(5):
        settings = demo_settings_on_free_ports(tmp_path / "data")
        try:
            running = start_stubs(
                settings, control_port=0, options={"printer": {"out_dir": tmp_path}}
            )
        except OSError:  # another process took a port between our probe and the bind
            if attempt == 4:
                raise
            continue
        yield settings, running
        running.stop()
        return


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return demo_settings_on_free_ports(tmp_path / "data")


def test_every_demo_device_reaches_ok_on_its_stub(
    settings_and_stubs: tuple[Settings, StubSet], tmp_path: Path
) -> None:
    settings, stubs = settings_and_stubs
    assert set(stubs.names) >= {"lockers", "idcard", "scanner", "printer", "camera"}
    devices: DeviceSet = build_devices(settings, tmp_path)
    changes: list[DeviceHealthChanged] = []
    lock = threading.Lock()

    def sink(event: object) -> None:
        if isinstance(event, DeviceHealthChanged):
            with lock:
                changes.append(event)

    devices.start(sink)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            states = {h.device: h.state for h in devices.health()}
            if all(state is HealthState.OK for state in states.values()):
                break
            time.sleep(0.05)
        assert all(state is HealthState.OK for state in states.values()), devices.health()
        assert len(states) == 5
        with lock:
            reported = {change.health.device for change in changes}
        # The UI learns of health through the sink: every serial device announced its recovery.
        assert reported >= {h.device for h in devices.health() if "reader" in h.device.lower()}
    finally:
        devices.stop()


def test_disabled_devices_are_not_built(settings: Settings, tmp_path: Path) -> None:
    quiet = settings.model_copy(
        update={
            "devices": settings.devices.model_copy(
                update={
                    "printer": settings.devices.printer.model_copy(update={"enabled": False}),
                    "camera": settings.devices.camera.model_copy(update={"enabled": False}),
                    "scanner": settings.devices.scanner.model_copy(update={"enabled": False}),
                }
            )
        }
    )
    devices = build_devices(quiet, tmp_path)
    assert devices.printer is None
    assert devices.camera is None
    assert devices.scanner is None
    assert len(devices.locker_columns) == 1
    assert len(devices.card_readers) == 1
