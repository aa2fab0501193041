"""The lock-board bus driver against the emulated boards, over socket:// and a pty, with faults."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.errors import BadFrame, DeviceOffline, NoReply
from devices.lockers.bus import LockerBus
from devices.lockers.protocols import protocol_by_name
from firmware_stubs.lockers import LockerBusFirmware
from firmware_stubs.serial_stub import SerialStubServer
from kiosk.ports.health import DeviceHealth, HealthState
from kiosk.ports.lockers import UnlockOutcome
from tests.support.waiting import wait_for


class Rig:
    def __init__(self, protocol_name: str, use_pty: bool, tmp_path: Path) -> None:
        self.protocol = protocol_by_name(protocol_name, None if "kerong" in protocol_name else 16)
        # Two boards on the bus: the driver must only ever take board 1's answers for board 1.
        self.firmware = LockerBusFirmware(
            self.protocol, {0: self.protocol.locks_per_board, 1: self.protocol.locks_per_board}
        )
        self.stub = SerialStubServer(
            self.firmware,
            use_pty=use_pty,
            pty_link=str(tmp_path / "ttyLOCKERS") if use_pty else None,
            name="lockers",
        ).start()
        self.health_seen: list[DeviceHealth] = []
        self.bus = LockerBus(
            self.stub.url, self.protocol, timeout_s=1.0, on_health=self.health_seen.append
        )
        self.bus.start()
        assert self.bus.wait_open(5)

    def close(self) -> None:
        self.bus.stop()
        self.stub.stop()


@pytest.fixture(
    params=[
        ("kerong-cu16", "socket"),
        ("kerong-cu16", "pty"),
        ("rs485-8a", "socket"),
        ("rs485-8a", "pty"),
    ],
    ids=lambda p: f"{p[0]}-{p[1]}",
)
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    protocol_name, transport = request.param
    setup = Rig(protocol_name, transport == "pty", tmp_path)
    yield setup
    setup.close()


def test_status_and_the_four_outcomes(rig: Rig) -> None:
    rig.firmware.control("open_door", {"board": 1, "lock": 2})
    rig.firmware.control("jam", {"board": 1, "lock": 3})
    status = rig.bus.status(1)
    assert status.board == 1
    assert status.door_closed(2) is False
    assert status.door_closed(1) is True
    assert rig.bus.unlock_and_verify(1, 1).outcome is UnlockOutcome.OPENED
    assert rig.bus.unlock_and_verify(1, 2).outcome is UnlockOutcome.ALREADY_OPEN
    assert rig.bus.unlock_and_verify(1, 3, recheck_window_s=0.2).outcome is UnlockOutcome.JAMMED
    rig.stub.control("silence", {"on": True})
    result = rig.bus.unlock_and_verify(1, 4, timeout=0.3)
    assert result.outcome is UnlockOutcome.UNKNOWN
    rig.stub.control("silence", {"on": False})
    board_0 = rig.bus.status(0)
    assert board_0.door_closed(1) is True  # board 0 untouched by board 1's commands


def test_a_slow_door_opens_on_recheck_and_item_sensors_read(rig: Rig) -> None:
    rig.firmware.control("slow_door", {"board": 0, "lock": 5})
    result = rig.bus.unlock_and_verify(0, 5)
    assert result.outcome is UnlockOutcome.OPENED, (result, rig.firmware.control("state", {}))
    if not rig.protocol.has_item_sensors:
        assert rig.bus.status(0).items_present is None
        return
    rig.firmware.control("put_item", {"board": 0, "lock": 7})
    assert rig.bus.status(0).item_present(7) is True
    rig.firmware.control("remove_item", {"board": 0, "lock": 7})
    assert rig.bus.status(0).item_present(7) is False


def test_noise_split_replies_a_corrupted_reply_and_silence(rig: Rig) -> None:
    rig.stub.control("noise", {"hex": "ff0280008a33"})
    assert rig.bus.status(0).door_closed(1) is True
    rig.stub.control("split", {"on": True, "delay_s": 0.001})
    assert rig.bus.unlock_and_verify(0, 6).outcome is UnlockOutcome.OPENED
    rig.stub.control("split", {"on": False})

    rig.stub.control("corrupt_next", {"count": 1})
    with pytest.raises(BadFrame, match=r"lock board 0 .* not a valid .* frame"):
        rig.bus.status(0, timeout=5)  # the corrupt reply is refused when it comes, not timed out
    assert rig.bus.status(0).board == 0  # the bus carries on

    rig.stub.control("silence", {"on": True})
    with pytest.raises(NoReply, match=r"lock board 0 .* did not answer a status read"):
        rig.bus.status(0, timeout=0.2)


def test_unplug_mid_frame_goes_offline_then_recovers_by_itself(rig: Rig) -> None:
    rig.stub.control("unplug_mid_frame", {})
    with pytest.raises((NoReply, DeviceOffline)):
        rig.bus.status(0, timeout=0.5)
    assert wait_for(lambda: HealthState.OFFLINE in {h.state for h in rig.health_seen})
    with pytest.raises((NoReply, DeviceOffline)):
        rig.bus.status(0, timeout=0.3)
    rig.stub.replug()

    def answers() -> bool:
        try:
            return rig.bus.status(0, timeout=1.0).board == 0
        except (NoReply, DeviceOffline):
            return False

    assert wait_for(answers, timeout=15)  # by itself: nobody restarts the driver
    assert rig.bus.health().state is HealthState.OK
