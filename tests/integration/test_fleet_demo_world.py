"""The demo's private fleet: a real Mosquitto on a free port, a key pair the terminal trusts, and
printed lines that work as typed; the broker goes away with the demo."""

from __future__ import annotations

import contextlib
import re
import socket
from pathlib import Path

import pytest

from bootstrap.demo import join_demo_fleet
from firmware_stubs.mqtt_locker_column import MOSQUITTO
from fleet_console.keys import load_private_key, public_key_text
from kiosk.config import Settings, TerminalSettings

pytestmark = pytest.mark.skipif(not Path(MOSQUITTO).exists(), reason="needs Debian's mosquitto")


def listening(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


def test_the_demo_terminal_joins_a_private_broker_with_a_fresh_console_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(terminal=TerminalSettings(id="GZ_Cili.007"))
    with contextlib.ExitStack() as stack:
        joined = join_demo_fleet(stack, settings, tmp_path / "fleet")
        fleet = joined.fleet
        assert fleet.enabled
        port = int(fleet.broker_url.rsplit(":", 1)[1])
        assert fleet.broker_url == f"mqtt://127.0.0.1:{port}"
        assert listening(port)

        out = capsys.readouterr().out
        assert "terminal gz-cili-007 reports to the fleet broker" in out
        console = re.search(r"kiosk fleet console --broker (\S+) --key (\S+)", out)
        assert console is not None, out
        assert console.group(1) == fleet.broker_url
        key = load_private_key(Path(console.group(2)))
        assert public_key_text(key.public_key()) == fleet.console_public_key
        simulate = re.search(
            r"kiosk fleet simulate --terminals 20 --broker (\S+) --console-public-key (\S+)", out
        )
        assert simulate is not None, out
        assert simulate.groups() == (fleet.broker_url, fleet.console_public_key)
    assert not listening(port)  # the demo's broker stops with the demo
