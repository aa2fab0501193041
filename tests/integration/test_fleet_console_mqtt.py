"""The console against a real Mosquitto: what terminals publish ends up in its store and pages,
signed commands go out with MQTT 5 request/response properties, and replies come back.

The terminals here are hand-made publishers of docs/fleet-protocol.md
(tests/support/fleet_publisher.py); the last test runs the simulator: the real kiosk.fleet code.
"""

from __future__ import annotations

import argparse
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bootstrap import fleet_cli
from fleet_console.console import ConsoleOptions, RunningConsole
from fleet_console.keys import generate_key_pair, load_private_key
from fleet_console.link import BrokerSettings
from fleet_console.protocol import verify_command
from tests.support.fleet_publisher import PNG_1X1, FakeTerminal
from tests.support.mosquitto import MosquittoBroker, mosquitto_broker  # noqa: F401
from tests.support.mqtt_probe import MqttProbe

pytestmark = pytest.mark.timeout(120)


def wait_until(condition: Callable[[], bool], what: str, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {timeout_s} s")
        time.sleep(0.02)  # polling a condition with a deadline


@pytest.fixture(scope="module")
def key_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "console.key"
    generate_key_pair(path)
    return path


@pytest.fixture(scope="module")
def key(key_file: Path) -> Ed25519PrivateKey:
    return load_private_key(key_file)


@pytest.fixture(scope="module")
def console(
    mosquitto_broker: MosquittoBroker,  # noqa: F811
    key: Ed25519PrivateKey,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[RunningConsole]:
    options = ConsoleOptions(
        broker=BrokerSettings(mosquitto_broker.url),
        database=tmp_path_factory.mktemp("console") / "console.db",
        console_id="test-console",
        issuer="alice",
        signing_key=key,
        port=0,
    )
    with RunningConsole(options) as running:
        yield running


def terminal(broker: MosquittoBroker, key: Ed25519PrivateKey, device_id: str) -> FakeTerminal:
    probe = MqttProbe("127.0.0.1", broker.port, f"{device_id}-{uuid.uuid4().hex[:6]}")
    probe.connect()
    return FakeTerminal(probe, device_id, key.public_key())


def test_the_grid_puts_lost_and_alerting_terminals_first(
    console: RunningConsole,
    mosquitto_broker: MosquittoBroker,  # noqa: F811
    key: Ed25519PrivateKey,
) -> None:
    healthy = terminal(mosquitto_broker, key, "it-grid-ok")
    paper = terminal(mosquitto_broker, key, "it-grid-paper")
    lost = terminal(mosquitto_broker, key, "it-grid-lost")
    door = terminal(mosquitto_broker, key, "it-grid-door")
    for each in (healthy, paper, lost, door):
        each.publish_tree()
    paper.raise_alert("printer-paper-low", "warning", "Paper nearly used up.", "纸卷即将用完。")
    door.raise_alert("door-3-attention", "critical", "Compartment 3 forced.", "3号格口被强行打开。")
    lost.set_state("lost")

    mine = {"it-grid-ok", "it-grid-paper", "it-grid-lost", "it-grid-door"}

    def order() -> list[str]:
        return [t.device_id for t in console.store.terminals() if t.device_id in mine]

    expected = ["it-grid-lost", "it-grid-door", "it-grid-paper", "it-grid-ok"]
    wait_until(lambda: order() == expected, f"the order {expected}")
    page = httpx.get(f"{console.url}/", timeout=10).text
    positions = [page.index(f'data-device="{device}"') for device in expected]
    assert positions == sorted(positions)
    api = httpx.get(f"{console.url}/api/terminals", timeout=10).json()["terminals"]
    assert [t["device_id"] for t in api if t["device_id"] in mine] == expected

    door.clear_alert("door-3-attention")
    wait_until(lambda: order()[1] == "it-grid-paper", "the cleared alert to drop the terminal")
    history = console.store.alert_events("it-grid-door", 0)
    assert [event[0] for event in history] == ["door-3-attention"]
    for each in (healthy, paper, lost, door):
        each.probe.close()


def test_only_the_consoles_own_host_names_are_answered(console: RunningConsole) -> None:
    """A page whose DNS name was rebound to 127.0.0.1 sends its own name as Host: refused, so
    it can read neither the dashboard nor the form token that would let it post a command."""
    port = console.port
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", "LOCALHOST"):
        answer = httpx.get(f"{console.url}/", headers={"Host": host}, timeout=10)
        assert answer.status_code == 200, host
    for host in (f"attacker.example:{port}", "127.0.0.1.attacker.example", "", "[::1"):
        answer = httpx.get(f"{console.url}/", headers={"Host": host}, timeout=10)
        assert answer.status_code == 421, host
        assert "answers only to 127.0.0.1, ::1, localhost" in answer.text
    posted = httpx.post(
        f"{console.url}/terminals/it-any/commands",
        headers={"Host": "attacker.example"},
        data={"name": "open-compartment"},
        timeout=10,
    )
    assert posted.status_code == 421


def test_history_is_written_on_change_not_on_retained_repeats(
    console: RunningConsole,
    mosquitto_broker: MosquittoBroker,  # noqa: F811
    key: Ed25519PrivateKey,
) -> None:
    paper = terminal(mosquitto_broker, key, "it-history")
    paper.publish_tree(paper="ok")
    paper.publish_tree(paper="ok")  # what a reconnect looks like: everything said again
    paper.set_value("printer", "paper", "near-end")
    paper.set_value("printer", "paper", "out")
    paper.log("warning", "printer: paper out")
    wait_until(
        lambda: [v for _, v in console.store.series("it-history", "paper", 0)] == [1.0, 0.5, 0.0],
        "three paper samples",
    )
    wait_until(lambda: bool(console.store.logs("it-history")), "the log line")
    assert console.store.logs("it-history")[0].text == "printer: paper out"
    # the reconnect's init → ready is a real dip in connectivity, unlike the repeated values
    assert [v for _, v in console.store.series("it-history", "connectivity", 0)] == [0, 1, 0, 1]
    paper.probe.close()


def test_a_signed_command_goes_out_with_request_response_properties(
    console: RunningConsole,
    mosquitto_broker: MosquittoBroker,  # noqa: F811
    key: Ed25519PrivateKey,
) -> None:
    door = terminal(mosquitto_broker, key, "it-command")
    door.publish_tree()
    door.answer_commands()
    command = console.link.send("it-command", "open-compartment", {"number": 4, "reason": "jam"})
    wait_until(
        lambda: (r := console.store.command(command.id)) is not None and r.status == "SUCCEEDED",
        "SUCCEEDED",
    )
    delivered = door.probe.wait_message(lambda m: m.topic == "gzk/1/it-command/cmd")
    assert verify_command(delivered.payload, key.public_key()).args == {
        "number": 4,
        "reason": "jam",
    }
    properties = delivered.properties
    assert properties is not None
    assert properties.ResponseTopic == "gzk/1/it-command/reply/test-console"
    assert properties.CorrelationData == command.id.encode()
    assert 0 < properties.MessageExpiryInterval <= 60
    assert not delivered.retain
    assert command.issuer == "alice"
    wait_until(
        lambda: console.store.values("it-command")["doors"]["door-4"] == "open", "door 4 open"
    )

    shot = console.link.send("it-command", "screenshot", {})
    wait_until(lambda: console.store.screenshot("it-command") is not None, "the screenshot")
    response = httpx.get(f"{console.url}/terminals/it-command/screenshot.png", timeout=10)
    assert response.content == PNG_1X1
    assert console.store.command(shot.id) is not None
    door.probe.close()


def test_the_cli_reports_status_and_sends_a_command(
    console: RunningConsole,
    mosquitto_broker: MosquittoBroker,  # noqa: F811
    key: Ed25519PrivateKey,
    key_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cli_terminal = terminal(mosquitto_broker, key, "it-cli")
    cli_terminal.publish_tree()
    cli_terminal.raise_alert("printer-paper-out", "error", "Out of paper.", "缺纸。")
    cli_terminal.answer_commands()
    parser = argparse.ArgumentParser()
    fleet_cli.register(parser.add_subparsers(), lambda _parser: None)

    def run(*argv: str) -> int:
        args = parser.parse_args(["fleet", *argv])
        return int(args.handler(args))

    assert run("status", "--broker", mosquitto_broker.url, "--wait", "5") == 0
    out = capsys.readouterr().out
    line = next(row for row in out.splitlines() if row.startswith("it-cli"))
    assert "ready" in line
    assert "Out of paper." in line

    code = run(
        "cmd",
        "it-cli",
        "open-compartment",
        "12",
        "--reason",
        "citizen locked out",
        "--broker",
        mosquitto_broker.url,
        "--key",
        str(key_file),
        "--wait",
        "20",
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "RECEIVED" in out
    assert "SUCCEEDED" in out
    assert cli_terminal.executed[-1]["args"] == {"number": 12, "reason": "citizen locked out"}

    assert (
        run(
            "cmd",
            "it-cli",
            "open-compartment",
            "12",
            "--broker",
            mosquitto_broker.url,
            "--key",
            str(key_file),
        )
        == fleet_cli.EXIT_USAGE
    )
    assert "needs a reason" in capsys.readouterr().err
    cli_terminal.probe.close()


def test_the_console_reads_the_real_terminal_code(
    console: RunningConsole,
    mosquitto_broker: MosquittoBroker,  # noqa: F811
    key: Ed25519PrivateKey,
) -> None:
    """One simulated terminal (kiosk.fleet + backend_client.fleet_mqtt) seen and commanded."""
    from fleet_console.keys import public_key_text
    from fleet_console.simulator import build_fleet

    fleet = build_fleet(
        mosquitto_broker.url,
        1,
        prefix="it-sim",
        console_public_key=public_key_text(key.public_key()),
    )
    fleet.start()
    try:
        wait_until(
            lambda: (t := console.store.terminal("it-sim-0001")) is not None and t.state == "ready",
            "the simulated terminal ready",
            30,
        )
        fleet.terminals[0].fault(0)  # the paper runs out
        wait_until(
            lambda: any(
                a.alert_id == "printer-paper-out"
                for a in (
                    console.store.terminal("it-sim-0001") or console.store.terminals()[0]
                ).alerts
            ),
            "the paper alert",
        )
        command = console.link.send("it-sim-0001", "print-test-page", {})
        wait_until(
            lambda: (
                (r := console.store.command(command.id)) is not None
                and r.status in ("SUCCEEDED", "FAILED")
            ),
            "a final reply",
        )
        record = console.store.command(command.id)
        assert record is not None
        assert record.status == "FAILED"  # out of paper: the terminal says so
    finally:
        fleet.stop()
