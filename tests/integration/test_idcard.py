"""The ID-card reader driver and CLI against the SAM stub (socket:// and pty) with line faults,
and against a tiny independent emulator written straight from the protocol text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.errors import DeviceError, NoReply
from devices.idcard.driver import IdCardReader, SamReader
from devices.idcard.errors import CardDataInvalid, CardUnreadable, NoCardPresent
from firmware_stubs.idcard import SamModuleFirmware, start_from_settings
from firmware_stubs.serial_stub import SerialStubServer
from kiosk.config import settings_from_mapping
from kiosk.ports.health import DeviceHealth, DeviceHealthChanged, HealthState
from kiosk.ports.identity import CardPlaced, CardReadFailed, CardRemoved
from tests.support.waiting import wait_for

REPO = Path(__file__).resolve().parents[2]
EXPECTED_SAMPLE = {
    "name": "张小明",
    "gender": "male",
    "nation": "汉",
    "nation_code": "01",
    "birth_date": "1985-06-12",
    "address": "湖南省慈利县零阳街道建设路88号",
    "id_number": "430821198506121232",
    "authority": "慈利县公安局",
    "valid_from": "2016-03-01",
    "valid_to": "2036-03-01",
}


class IndependentSam:
    """Six lines of protocol: XOR over LEN+body, UCS-2 LE text; nothing from devices.idcard."""

    FIND, SELECT, READ = (
        bytes.fromhex("AAAAAA9669000320 0122"),
        bytes.fromhex("AAAAAA9669000320 0221"),
        bytes.fromhex("AAAAAA9669000330 0132"),
    )

    def __init__(self) -> None:
        self.card = True
        self.pending = b""

    @staticmethod
    def frame(body: bytes) -> bytes:
        length = (len(body) + 1).to_bytes(2, "big")
        check = 0
        for byte in length + body:
            check ^= byte
        return b"\xaa\xaa\xaa\x96\x69" + length + body + bytes([check])

    def feed(self, data: bytes) -> bytes:
        self.pending += data
        for request in (self.FIND, self.SELECT, self.READ):
            if request in self.pending:
                self.pending = self.pending.split(request, 1)[1]
                return self.answer(request)
        return b""

    def answer(self, data: bytes) -> bytes:
        if data == self.FIND:
            return self.frame(b"\x00\x00\x9f" + bytes(4) if self.card else b"\x00\x00\x80")
        if data == self.SELECT:
            return self.frame(b"\x00\x00\x90" + bytes(8) if self.card else b"\x00\x00\x81")
        if data == self.READ:
            fields = [
                ("欧阳娜娜", 30), ("2", 2), ("17", 4), ("20010228", 16),
                ("新疆维吾尔自治区伊宁市解放路2号", 70), ("11010519491231002X", 36),
                ("伊宁市公安局", 30), ("20200101", 16), ("长期", 16), ("", 36),
            ]  # fmt: skip
            text = b"".join(
                v.encode("utf-16-le").ljust(size, b"\x00").replace(b"\x00\x00", b" \x00")
                if v
                else b" \x00" * (size // 2)
                for v, size in fields
            )
            return self.frame(b"\x00\x00\x90\x01\x00\x04\x00" + text + bytes(1024))
        return b""

    def control(self, command: str, args: dict[str, object]) -> dict[str, object]:
        self.card = command == "put_card"
        return {}


@pytest.fixture(params=["socket", "pty"])
def stub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SerialStubServer]:
    use_pty = request.param == "pty"
    firmware = SamModuleFirmware()
    firmware.control("put_card", {})
    server = SerialStubServer(
        firmware,
        use_pty=use_pty,
        pty_link=str(tmp_path / "ttyIDCARD") if use_pty else None,
        name="idcard",
    )
    with server:
        yield server


@pytest.fixture
def reader(stub: SerialStubServer) -> Iterator[SamReader]:
    sam = SamReader(stub.url, timeout_s=1.0)
    sam.start()
    assert sam.wait_open(5)
    yield sam
    sam.stop()


def test_reads_the_card_and_reports_no_card(stub: SerialStubServer, reader: SamReader) -> None:
    assert reader.read_card().as_json() == EXPECTED_SAMPLE
    assert reader.read_card().name == "张小明"  # again: find says no card, select still works
    stub.control("remove_card", {})
    with pytest.raises(NoCardPresent):
        reader.read_card()
    assert reader.health().state is HealthState.OK


def test_unreadable_card_and_a_bad_check_digit_are_read_errors(
    stub: SerialStubServer, reader: SamReader
) -> None:
    stub.control("unreadable_card", {})
    with pytest.raises(CardUnreadable, match="reading the card failed"):
        reader.read_card()
    stub.control("put_card", {"id_number": "430821198506121233"})
    with pytest.raises(CardDataInvalid, match="check digit") as caught:
        reader.read_card()
    assert "430821198506121233" not in str(caught.value)


def test_noise_split_bytes_and_one_corrupted_reply(
    stub: SerialStubServer, reader: SamReader
) -> None:
    stub.control("noise", {"hex": "ffaaaa00aa9669"})
    assert reader.read_card().id_number == EXPECTED_SAMPLE["id_number"]
    stub.control("split", {"on": True, "delay_s": 0})
    assert reader.read_card().name == "张小明"
    stub.control("split", {"on": False})
    reader.timeout_s = 0.5
    stub.control("corrupt_next", {"count": 1})
    with pytest.raises(NoReply):
        reader.find_card()
    assert reader.decoder.rejected >= 1
    reader.timeout_s = 5  # the next read is answered; a busy machine may be slow
    assert reader.read_card().name == "张小明"


def test_silence_is_offline_and_answers_bring_it_back(
    stub: SerialStubServer, reader: SamReader
) -> None:
    reader.timeout_s = 0.3
    stub.control("silence", {"on": True})
    with pytest.raises(NoReply, match="did not answer"):
        reader.find_card()
    assert reader.health().state is HealthState.OFFLINE
    assert "does not answer" in reader.health().reason
    stub.control("silence", {"on": False})
    reader.timeout_s = 5  # answered again; a busy machine may be slow
    assert reader.find_card() in (True, False)
    assert reader.health().state is HealthState.OK


def test_unplug_mid_frame_then_replug_recovers_by_itself(stub: SerialStubServer) -> None:
    seen: list[DeviceHealth] = []
    sam = SamReader(stub.url, timeout_s=0.5, on_health=seen.append)
    sam.start()
    try:
        assert sam.wait_open(5)
        stub.control("unplug_mid_frame", {})
        with pytest.raises(DeviceError):
            sam.read_card()
        assert wait_for(lambda: sam.health().state is HealthState.OFFLINE, 5)
        stub.replug()
        assert wait_for(lambda: _reads(sam), 15)  # by itself: nobody restarts the reader
        assert HealthState.OFFLINE in [h.state for h in seen]
    finally:
        sam.stop()


def _reads(sam: SamReader) -> bool:
    try:
        return sam.read_card().name == "张小明"
    except DeviceError:
        return False


def test_the_reader_port_publishes_card_events(stub: SerialStubServer) -> None:
    stub.control("remove_card", {})
    events: list[object] = []
    port = IdCardReader(stub.url, poll_interval_s=0.05)
    port.start(events.append)
    try:
        assert wait_for(lambda: port.health().state is HealthState.OK)
        stub.control("put_card", {"name": "王芳", "gender": "female"})
        assert wait_for(lambda: any(isinstance(e, CardPlaced) for e in events))
        placed = next(e for e in events if isinstance(e, CardPlaced))
        assert placed.identity.masked == "王* 4308**********1232"
        assert placed.identity.gender == "female"
        # The card stays: several polls (find says "no card" after a read) must not remove it.
        polls_before = len(stub.received)
        assert wait_for(lambda: len(stub.received) > polls_before + 100)
        assert not any(isinstance(e, CardRemoved) for e in events)
        assert port.current() == placed.identity
        stub.control("remove_card", {})
        assert wait_for(lambda: CardRemoved("id_card") in events)
        stub.control("unreadable_card", {})
        assert wait_for(lambda: any(isinstance(e, CardReadFailed) for e in events))
        stub.unplug()
        assert wait_for(
            lambda: any(
                isinstance(e, DeviceHealthChanged) and e.health.state is HealthState.OFFLINE
                for e in events
            )
        )
        stub.replug()
        assert wait_for(lambda: port.health().state is HealthState.OK, 5)
    finally:
        port.stop()


def test_the_driver_against_the_independent_emulator() -> None:
    with SerialStubServer(IndependentSam()) as server:
        sam = SamReader(server.url)
        sam.start()
        try:
            assert sam.wait_open(5)
            record = sam.read_card()
        finally:
            sam.stop()
    assert record.as_json() == {
        "name": "欧阳娜娜",
        "gender": "female",
        "nation": "哈萨克",
        "nation_code": "17",
        "birth_date": "2001-02-28",
        "address": "新疆维吾尔自治区伊宁市解放路2号",
        "id_number": "11010519491231002X",
        "authority": "伊宁市公安局",
        "valid_from": "2020-01-01",
        "valid_to": "long-term",
    }


def test_start_from_settings_serves_the_configured_loopback_port() -> None:
    with SerialStubServer(IndependentSam()) as probe:
        free_port = probe.port  # a port that was free a moment ago
    settings = settings_from_mapping(
        {"devices": {"idcard": {"port": f"socket://127.0.0.1:{free_port}", "baud": 115200}}}
    )
    stubs = start_from_settings(settings)
    try:
        assert [s.name for s in stubs] == ["idcard"]
        assert stubs[0].control("state", {})["card"] is None  # a reader starts empty
        stubs[0].control("put_card", {})
        assert stubs[0].control("state", {})["card"] == "张*明 4308**********1232"
        sam = SamReader(settings.devices.idcard.port)
        sam.start()
        try:
            assert sam.wait_open(5)
            assert sam.read_card().name == "张小明"
        finally:
            sam.stop()
    finally:
        for stub in stubs:
            stub.stop()
    hardware = settings_from_mapping({"devices": {"idcard": {"port": "/dev/ttyUSB0"}}})
    assert start_from_settings(hardware) == []


# -- the CLI contract, in a subprocess ------------------------------------------------------------
def run_cli(*args: str) -> tuple[int, object, str]:
    result = subprocess.run(
        [sys.executable, "-m", "bootstrap", "device", "idcard", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    document = json.loads(result.stdout) if result.stdout.strip() else None
    return result.returncode, document, result.stderr


@pytest.fixture
def socket_stub() -> Iterator[SerialStubServer]:
    """The CLI opens the port exactly as the driver tests do; one transport is enough here."""
    firmware = SamModuleFirmware()
    firmware.control("put_card", {})
    with SerialStubServer(firmware, name="idcard") as server:
        yield server


def test_cli_read_no_card_and_silence(socket_stub: SerialStubServer) -> None:
    stub = socket_stub
    code, document, stderr = run_cli("--port", stub.url, "read")
    assert (code, document) == (0, EXPECTED_SAMPLE), stderr
    stub.control("put_card", {"valid_to": "long-term"})
    code, document, _ = run_cli("--port", stub.url, "--timeout", "0.5", "read")
    assert code == 0
    assert isinstance(document, dict)
    assert document["valid_to"] == "long-term"
    stub.control("remove_card", {})
    assert run_cli("--port", stub.url, "read")[:2] == (3, {"error": "no card on the reader"})
    stub.control("silence", {"on": True})
    code, document, stderr = run_cli("--port", stub.url, "--timeout", "0.3", "read")
    assert code == 1
    assert isinstance(document, dict)
    assert stub.url in document["error"]
    assert "did not answer" in document["error"]
    assert "Traceback" not in stderr


def test_cli_against_the_independent_emulator_and_bad_ports() -> None:
    with SerialStubServer(IndependentSam()) as server:
        code, document, stderr = run_cli("--port", server.url, "--baud", "115200", "read")
        assert code == 0, stderr
        assert isinstance(document, dict)
        assert document["nation"] == "哈萨克"
        server.control("remove_card", {})
        assert run_cli("--port", server.url, "read")[0] == 3
        dead = server.url
    code, document, stderr = run_cli("--port", dead, "--timeout", "0.5", "read")
    assert code == 1
    assert isinstance(document, dict)
    assert dead in document["error"]
    assert "Traceback" not in stderr
    code, document, stderr = run_cli("read")
    assert code == 2
    assert document is None
    assert "--port" in stderr
    assert run_cli("--port", dead, "--timeout", "-1", "read")[0] == 2
