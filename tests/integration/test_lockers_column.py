"""The serial locker column (the `LockerColumn` port) against an emulated bus: events and health."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.lockers.column import SerialLockerColumn
from devices.lockers.protocols import protocol_by_name
from firmware_stubs.lockers import LockerBusFirmware, start_from_settings
from firmware_stubs.serial_stub import SerialStubServer
from kiosk.config import CompartmentSettings, LockerColumnSettings, Settings
from kiosk.ports.health import DeviceHealthChanged, HealthState
from kiosk.ports.lockers import (
    DoorClosed,
    DoorOpened,
    DoorOpenedWithoutCommand,
    DoorState,
    ItemDetected,
    ItemRemoved,
    LockerError,
    UnlockOutcome,
)
from tests.support.waiting import wait_for


class RecordingSink:
    def __init__(self) -> None:
        self.events: list[object] = []
        self._lock = threading.Lock()

    def __call__(self, event: object) -> None:
        with self._lock:
            self.events.append(event)

    def door_events(self) -> list[object]:
        with self._lock:
            return [e for e in self.events if not isinstance(e, DeviceHealthChanged)]

    def saw(self, event: object) -> bool:
        return event in self.door_events()


def column_settings(url: str, protocol: str) -> LockerColumnSettings:
    """Compartments 1-4 on board 0 locks 1-4, 5-6 on board 2 locks 1-2."""
    wiring = [(0, 1), (0, 2), (0, 3), (0, 4), (2, 1), (2, 2)]
    return LockerColumnSettings(
        name="A",
        port=url,
        protocol=protocol,  # type: ignore[arg-type]
        compartments=[
            CompartmentSettings(number=n, board=b, lock=lk, size="M", row=n)
            for n, (b, lk) in enumerate(wiring, start=1)
        ],
    )


class ColumnRig:
    def __init__(self, protocol_name: str, use_pty: bool, tmp_path: Path, idle_s: float) -> None:
        protocol = protocol_by_name(protocol_name, None if "kerong" in protocol_name else 8)
        self.firmware = LockerBusFirmware(protocol, {0: protocol.locks_per_board, 2: 8})
        self.stub = SerialStubServer(
            self.firmware,
            use_pty=use_pty,
            pty_link=str(tmp_path / "ttyCOLUMN") if use_pty else None,
        ).start()
        self.column = SerialLockerColumn.from_settings(
            column_settings(self.stub.url, protocol_name),
            fast_poll_s=0.05,
            idle_poll_s=idle_s,
            poll_timeout_s=1.0,  # only a dead line waits this long; a busy machine may be slow
        )
        self.sink = RecordingSink()
        self.column.start(self.sink)
        assert wait_for(
            lambda: all(r.door is not DoorState.UNKNOWN for r in self.column.readings().values())
        )

    def close(self) -> None:
        self.column.stop()
        self.stub.stop()


@pytest.fixture(params=["kerong-cu16", "rs485-8a"])
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ColumnRig]:
    setup = ColumnRig(request.param, use_pty=False, tmp_path=tmp_path, idle_s=0.1)
    yield setup
    setup.close()


def test_the_baseline_makes_no_events_and_maps_compartments(rig: ColumnRig) -> None:
    assert rig.sink.door_events() == []
    assert [c.number for c in rig.column.compartments()] == [1, 2, 3, 4, 5, 6]
    assert rig.column.compartments()[4].board == 2
    assert rig.column.readings()[5].door is DoorState.CLOSED


def test_a_forced_door_raises_the_alarm_and_an_unlocked_one_does_not(rig: ColumnRig) -> None:
    rig.firmware.control("open_door", {"board": 2, "lock": 2})  # compartment 6, nobody unlocked
    assert wait_for(lambda: rig.sink.saw(DoorOpenedWithoutCommand(6)))
    assert rig.sink.door_events()[:2] == [DoorOpened(6), DoorOpenedWithoutCommand(6)]
    rig.firmware.control("close_door", {"board": 2, "lock": 2})
    assert wait_for(lambda: rig.sink.saw(DoorClosed(6)))

    assert rig.column.unlock(3) is UnlockOutcome.OPENED
    assert wait_for(lambda: rig.sink.saw(DoorOpened(3)))
    assert DoorOpenedWithoutCommand(3) not in rig.sink.door_events()
    assert rig.column.readings()[3].door is DoorState.OPEN
    assert rig.column.unlock(3) is UnlockOutcome.ALREADY_OPEN


def test_item_sensors_report_changes(rig: ColumnRig) -> None:
    if rig.column.readings()[1].item_present is None:
        pytest.skip("8A boards have no item sensors")
    rig.firmware.control("put_item", {"board": 0, "lock": 1})
    assert wait_for(lambda: rig.sink.saw(ItemDetected(1)))
    rig.firmware.control("remove_item", {"board": 0, "lock": 1})
    assert wait_for(lambda: rig.sink.saw(ItemRemoved(1)))


def test_a_jammed_lock_degrades_health_until_it_opens(rig: ColumnRig) -> None:
    rig.firmware.control("jam", {"board": 0, "lock": 2})
    assert rig.column.unlock(2) is UnlockOutcome.JAMMED
    assert rig.column.health().state is HealthState.DEGRADED
    assert "compartment(s) 2 " in rig.column.health().reason
    rig.firmware.control("unjam", {"board": 0, "lock": 2})
    assert rig.column.unlock(2) is UnlockOutcome.OPENED
    assert wait_for(lambda: rig.column.health().state is HealthState.OK)


def test_a_silent_board_is_a_fault_naming_its_compartments(rig: ColumnRig) -> None:
    del rig.firmware.boards[2]  # board 2 loses power; board 0 still answers
    assert wait_for(lambda: rig.column.health().state is HealthState.FAULT)
    assert "compartments 5, 6 cannot be opened" in rig.column.health().reason
    events = [e.health.state for e in rig.sink.events if isinstance(e, DeviceHealthChanged)]
    assert HealthState.FAULT in events


def test_unknown_compartments_and_impossible_wiring_are_locker_errors(rig: ColumnRig) -> None:
    with pytest.raises(LockerError, match="has no compartment 99"):
        rig.column.unlock(99)
    bad = LockerColumnSettings(
        name="B",
        protocol="kerong-cu16",
        compartments=[CompartmentSettings(number=1, board=0, lock=17, size="S", row=1)],
    )
    with pytest.raises(LockerError, match="cannot address"):
        SerialLockerColumn.from_settings(bad)


def test_expecting_movement_makes_an_idle_column_poll_fast(tmp_path: Path) -> None:
    setup = ColumnRig("kerong-cu16", use_pty=False, tmp_path=tmp_path, idle_s=60.0)
    try:
        setup.firmware.control("open_door", {"board": 0, "lock": 4})
        setup.column.expect_movement(4, 5.0)  # the idle period alone would take a minute
        assert wait_for(lambda: setup.sink.saw(DoorOpened(4)))
    finally:
        setup.close()


@pytest.mark.parametrize("transport", ["socket", "pty"])
def test_unplug_mid_frame_reports_offline_and_recovers(transport: str, tmp_path: Path) -> None:
    setup = ColumnRig("rs485-8a", use_pty=transport == "pty", tmp_path=tmp_path, idle_s=0.1)
    try:
        setup.stub.control("unplug_mid_frame", {})
        setup.column.expect_movement(1, 30)
        assert wait_for(lambda: setup.column.health().state is HealthState.OFFLINE)
        assert "column A" in setup.column.health().reason or "not connected" in (
            setup.column.health().reason
        )
        setup.stub.replug()
        assert wait_for(lambda: setup.column.health().state is HealthState.OK, timeout=5)
        assert setup.column.unlock(1) is UnlockOutcome.OPENED
    finally:
        setup.close()


def test_stubs_start_from_the_settings_and_take_compartment_numbers(tmp_path: Path) -> None:
    probe = SerialStubServer(LockerBusFirmware(protocol_by_name("kerong-cu16"), {})).start()
    free_port = probe.port
    probe.stop()
    settings = Settings.model_validate(
        {"devices": {"locker_columns": [{"name": "A", "port": f"socket://127.0.0.1:{free_port}"}]}}
    )
    [stub] = start_from_settings(settings)
    column = SerialLockerColumn.from_settings(
        settings.devices.locker_columns[0], fast_poll_s=0.05, idle_poll_s=0.1
    )
    sink = RecordingSink()
    try:
        assert stub.name == "lockers"
        column.start(sink)
        assert wait_for(lambda: column.readings()[12].door is DoorState.CLOSED)
        reply = stub.control("open_door", {"compartment": 12})  # board 1 lock 4 in the demo map
        assert reply["board"] == 1
        assert wait_for(lambda: sink.saw(DoorOpenedWithoutCommand(12)))
        assert stub.control("corrupt_next", {}) == {"ok": True}
    finally:
        column.stop()
        stub.stop()
