"""The serial scanner driver against its stub over socket:// and a pty, with line faults."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.errors import DeviceOffline
from devices.scanner.driver import SerialBarcodeScanner
from firmware_stubs.scanner import ScannerFirmware, start_from_settings, start_scanner_stub
from firmware_stubs.serial_stub import SerialStubServer
from kiosk.config import Settings
from kiosk.ports.health import DeviceHealthChanged, HealthState
from kiosk.ports.scanner import SCANNER_FORMAT, CodeScanned
from tests.support.waiting import wait_for


class Recorder:
    def __init__(self) -> None:
        self.events: list[object] = []
        self._lock = threading.Lock()

    def __call__(self, event: object) -> None:
        with self._lock:
            self.events.append(event)

    def codes(self) -> list[str]:
        with self._lock:
            return [e.text for e in self.events if isinstance(e, CodeScanned)]

    def states(self) -> list[HealthState]:
        with self._lock:
            return [e.health.state for e in self.events if isinstance(e, DeviceHealthChanged)]


@pytest.fixture(params=["socket", "pty"])
def stub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SerialStubServer]:
    use_pty = request.param == "pty"
    server = start_scanner_stub(
        use_pty=use_pty, pty_link=str(tmp_path / "ttySCAN") if use_pty else None
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def scanner(stub: SerialStubServer) -> Iterator[tuple[SerialBarcodeScanner, Recorder]]:
    recorder = Recorder()
    driver = SerialBarcodeScanner(stub.url, backoff_max_s=0.5)
    driver.start(recorder)
    assert driver.wait_open(5)
    try:
        yield driver, recorder
    finally:
        driver.stop()


def connected(stub: SerialStubServer) -> bool:
    return stub.pty_path is not None or bool(stub._clients)


def test_codes_with_every_suffix_become_events(
    stub: SerialStubServer, scanner: tuple[SerialBarcodeScanner, Recorder]
) -> None:
    _, recorder = scanner
    assert wait_for(lambda: connected(stub))
    stub.control("scan", {"code": "6901234567892", "suffix": "CR"})
    stub.control("scan", {"code": "取件码 884127", "suffix": "LF"})
    stub.control("scan_many", {"codes": ["A-1", "B-2", "C-3"], "suffix": "CRLF"})
    assert wait_for(lambda: len(recorder.codes()) == 5)
    assert recorder.codes() == ["6901234567892", "取件码 884127", "A-1", "B-2", "C-3"]
    event = next(e for e in recorder.events if isinstance(e, CodeScanned))
    assert event == CodeScanned(format=SCANNER_FORMAT, text="6901234567892", raw=None)


def test_split_bytes_and_stray_terminators(
    stub: SerialStubServer, scanner: tuple[SerialBarcodeScanner, Recorder]
) -> None:
    _, recorder = scanner
    assert wait_for(lambda: connected(stub))
    stub.control("noise", {"hex": "0d0a0a0d"})  # line noise of bare terminators first
    stub.control("split", {"on": True, "delay_s": 0.001})
    stub.control("scan", {"code": "SPLIT-42", "suffix": "CRLF"})
    stub.control("scan", {"code": "NEXT", "suffix": "CRLF"})
    assert wait_for(lambda: len(recorder.codes()) == 2), (recorder.codes(), recorder.states())
    assert recorder.codes() == ["SPLIT-42", "NEXT"]


def test_manual_trigger_commands_reach_the_scanner(
    stub: SerialStubServer, scanner: tuple[SerialBarcodeScanner, Recorder]
) -> None:
    driver, recorder = scanner
    stub.control("manual_trigger", {"on": True})
    assert stub.control("scan", {"code": "IGNORED"})["sent"] == 0
    driver.set_scanning(True)
    assert wait_for(lambda: stub.control("status", {})["triggered"] is True)
    stub.control("scan", {"code": "TRIGGERED"})
    driver.set_scanning(False)
    assert wait_for(lambda: stub.control("status", {})["trigger_commands"] == ["on", "off"])
    assert wait_for(lambda: recorder.codes() == ["TRIGGERED"])
    assert stub.received.endswith(bytes.fromhex("16540d16550d"))


def test_silence_is_not_a_fault_for_a_scanner(
    stub: SerialStubServer, scanner: tuple[SerialBarcodeScanner, Recorder]
) -> None:
    driver, recorder = scanner
    assert wait_for(lambda: connected(stub))
    stub.control("silence", {"on": True})
    stub.control("scan", {"code": "LOST"})
    stub.control("silence", {"on": False})
    stub.control("scan", {"code": "HEARD"})
    assert wait_for(lambda: recorder.codes() == ["HEARD"])
    assert driver.health().state is HealthState.OK


def test_unplug_mid_code_drops_the_half_and_recovers_by_itself(
    stub: SerialStubServer, scanner: tuple[SerialBarcodeScanner, Recorder]
) -> None:
    driver, recorder = scanner
    assert wait_for(lambda: connected(stub))
    stub.control("unplug_mid_frame", {})
    stub.control("scan", {"code": "HALF-OF-THIS-CODE"})
    assert wait_for(lambda: driver.health().state is HealthState.OFFLINE)
    with pytest.raises(DeviceOffline, match=r"barcode scanner on .* is not connected"):
        driver.set_scanning(True)
    stub.replug()
    assert wait_for(lambda: driver.health().state is HealthState.OK, timeout=5)
    assert wait_for(lambda: connected(stub))
    stub.control("scan", {"code": "AFTER"})
    assert wait_for(lambda: recorder.codes() == ["AFTER"])
    assert recorder.states()[-2:] == [HealthState.OFFLINE, HealthState.OK]


def test_start_from_settings_serves_the_configured_port() -> None:
    probe = start_scanner_stub()
    port = probe.port
    probe.stop()  # a free port for the settings to name
    settings = Settings.model_validate(
        {"devices": {"scanner": {"port": f"socket://127.0.0.1:{port}", "baud": 9600}}}
    )
    stubs = start_from_settings(settings)
    try:
        assert [stub.name for stub in stubs] == ["scanner"]
        assert isinstance(stubs[0].firmware, ScannerFirmware)
        assert stubs[0].control("status", {})["ok"] is True
    finally:
        for stub in stubs:
            stub.stop()
    remote = Settings.model_validate({"devices": {"scanner": {"port": "/dev/ttyUSB0"}}})
    assert start_from_settings(remote) == []
