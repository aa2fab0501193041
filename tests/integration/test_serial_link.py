"""The shared serial line against a real stub: over socket:// and a pty, with unplug and replug."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.errors import DeviceOffline, NoReply
from devices.serial_link import SerialLink
from firmware_stubs.serial_stub import SerialStubServer
from kiosk.ports.health import DeviceHealth, HealthState
from tests.support.waiting import wait_for


class LineDecoder:
    """Newline-terminated frames: the simplest codec, enough to exercise the link."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[bytes]:
        self._buffer += data
        *frames, self._buffer = self._buffer.split(b"\n")
        return frames

    def reset(self) -> None:
        self._buffer = b""


class EchoFirmware:
    """Answers every line with `ok:<line>`; a line starting with `quiet` gets no answer."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> bytes:
        self._buffer += data
        *lines, self._buffer = self._buffer.split(b"\n")
        return b"".join(b"ok:" + line + b"\n" for line in lines if not line.startswith(b"quiet"))

    def control(self, command: str, args: dict[str, object]) -> dict[str, object]:
        raise KeyError(command)


@pytest.fixture(params=["socket", "pty"])
def stub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SerialStubServer]:
    use_pty = request.param == "pty"
    server = SerialStubServer(
        EchoFirmware(), use_pty=use_pty, pty_link=str(tmp_path / "ttyECHO") if use_pty else None
    )
    with server:
        yield server


def test_exchange_returns_the_matching_reply_and_discards_others(stub: SerialStubServer) -> None:
    link = SerialLink(stub.url, LineDecoder(), device="echo")
    link.start()
    try:
        assert link.wait_open(5)
        link.write(b"stray\n")  # its reply arrives while nobody waits: dropped, not mismatched
        reply = link.exchange(b"ping\n", lambda frame: frame == b"ok:ping", timeout=3)
        assert reply == b"ok:ping"
        with pytest.raises(NoReply, match=r"echo on .* did not answer"):
            link.exchange(b"quiet please\n", lambda frame: True, timeout=0.3)
    finally:
        link.stop()


def test_unplug_reports_offline_then_recovers_by_itself(stub: SerialStubServer) -> None:
    seen: list[DeviceHealth] = []
    link = SerialLink(stub.url, LineDecoder(), device="echo", on_health=seen.append)
    link.start()
    try:
        assert link.wait_open(5)
        assert link.health().state is HealthState.OK
        stub.unplug()
        assert wait_for(lambda: link.health().state is HealthState.OFFLINE)
        with pytest.raises(DeviceOffline, match="not connected"):
            link.write(b"x\n")
        stub.replug()
        assert wait_for(lambda: link.health().state is HealthState.OK, timeout=5)
        assert link.exchange(b"back\n", lambda f: f == b"ok:back", timeout=3) == b"ok:back"
        assert [h.state for h in seen][-2:] == [HealthState.OFFLINE, HealthState.OK]
    finally:
        link.stop()


def test_a_frame_cut_by_an_unplug_is_not_glued_to_the_next(stub: SerialStubServer) -> None:
    link = SerialLink(stub.url, LineDecoder(), device="echo")
    link.start()
    try:
        assert link.wait_open(5)
        stub.control("unplug_mid_frame", {})
        with pytest.raises((NoReply, DeviceOffline)):
            link.exchange(b"long-request-line\n", lambda f: True, timeout=1)
        assert wait_for(lambda: link.health().state is HealthState.OFFLINE)
        stub.replug()
        assert wait_for(lambda: link.is_open, timeout=5)
        assert link.exchange(b"next\n", lambda f: True, timeout=3) == b"ok:next"
    finally:
        link.stop()


def test_an_unopenable_url_is_offline_with_a_sentence() -> None:
    link = SerialLink("socket://127.0.0.1:1", LineDecoder(), device="scanner")
    link.start()
    try:
        assert wait_for(lambda: "check the cable" in link.health().reason)
        assert link.health().state is HealthState.OFFLINE
        assert "socket://127.0.0.1:1" in link.health().reason
    finally:
        link.stop()
