"""The fleet simulator on a real Mosquitto: every simulated terminal reaches `ready`, on an open
test broker and on a hardened one (TLS, one account per terminal, the fleet ACL) with the
per-terminal password files that `kiosk fleet broker-config` writes.

What the console sees is what counts, so a real `ConsoleLink` (the dashboard's own MQTT session
and store) watches the terminals' `$state`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bootstrap.cli import main as kiosk_main
from fleet_console.ingest import Ingest
from fleet_console.link import BrokerSettings, ConsoleLink
from fleet_console.simulator import SimulatorError, build_fleet, run_simulator
from fleet_console.store import ConsoleStore
from tests.support.mosquitto import MosquittoBroker, mosquitto_broker  # noqa: F401
from tests.support.secure_mosquitto import SecureBroker, secure_fleet_broker

pytestmark = pytest.mark.timeout(60)

WAIT_S = 25.0  # a deadline for a loaded two-core box, not a speed target (see bench/)
CONSOLE = "fleet-console"


def wait_for(condition: Callable[[], bool], what: Callable[[], str]) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {WAIT_S:.0f} s: {what()}")
        time.sleep(0.05)


def states(link: ConsoleLink) -> dict[str, str]:
    return {t.device_id: t.state for t in link.store.terminals()}


@pytest.fixture
def console_link(tmp_path: Path) -> Iterator[Callable[[BrokerSettings], ConsoleLink]]:
    started: list[ConsoleLink] = []

    def start(broker: BrokerSettings) -> ConsoleLink:
        store = ConsoleStore(tmp_path / f"console-{len(started)}.db")
        link = ConsoleLink(
            broker,
            Ingest(store, time.time),
            console_id=f"test-{len(started)}",
            issuer="test",
            signing_key=None,
        )
        started.append(link.start(WAIT_S))
        return link

    yield start
    for link in started:
        link.stop()


def test_every_terminal_of_a_small_fleet_reaches_ready(
    mosquitto_broker: MosquittoBroker,  # noqa: F811
    console_link: Callable[[BrokerSettings], ConsoleLink],
) -> None:
    # Once only the first of three reached ready: all links now share one selector thread.
    console = console_link(BrokerSettings(mosquitto_broker.url))
    fleet = build_fleet(mosquitto_broker.url, 5, prefix="small")
    fleet.start()
    try:
        wanted = {f"small-{n:04d}": "ready" for n in range(1, 6)}
        wait_for(lambda: states(console) == wanted, lambda: f"the console saw {states(console)}")
        assert fleet.ready_count() == 5
    finally:
        fleet.stop()
    wait_for(
        lambda: set(states(console).values()) == {"disconnected"},
        lambda: f"after an orderly stop the console saw {states(console)}",
    )


def test_simulated_submissions_reach_the_console(
    mosquitto_broker: MosquittoBroker,  # noqa: F811
    console_link: Callable[[BrokerSettings], ConsoleLink],
) -> None:
    console = console_link(BrokerSettings(mosquitto_broker.url))
    fleet = build_fleet(mosquitto_broker.url, 1, prefix="busy")
    fleet.start()
    try:
        terminal = fleet.terminals[0]
        wait_for(
            lambda: (
                console.store.values("busy-0001").get("system", {}).get("submissions-today") == "0"
            ),
            lambda: f"values: {console.store.values('busy-0001').get('system')}",
        )
        terminal.take_application()
        terminal.take_application()
        wait_for(
            lambda: console.store.values("busy-0001")["system"].get("submissions-today") == "2",
            lambda: f"values: {console.store.values('busy-0001').get('system')}",
        )
    finally:
        fleet.stop()


SECURE_TERMINALS = ("tls-0001", "tls-0002", "tls-0003")


@pytest.fixture(scope="module")
def secure_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureBroker]:
    with secure_fleet_broker(tmp_path_factory.mktemp("fleet-sim-broker"), SECURE_TERMINALS) as b:
        yield b


def test_a_simulated_fleet_joins_a_hardened_broker_with_its_password_files(
    secure_broker: SecureBroker,
    console_link: Callable[[BrokerSettings], ConsoleLink],
) -> None:
    ca_file = str(secure_broker.files.ca_certificate)
    console = console_link(
        BrokerSettings(
            secure_broker.url,
            username=CONSOLE,
            password=secure_broker.password(CONSOLE),
            ca_file=ca_file,
        )
    )
    stop = threading.Event()
    lines: list[str] = []
    simulator = threading.Thread(
        target=run_simulator,
        args=(secure_broker.url, len(SECURE_TERMINALS)),
        kwargs={
            "prefix": "tls",
            "password_dir": str(secure_broker.files.folder / "credentials"),
            "ca_file": ca_file,
            "fault_every_s": 0,
            "stop": stop,
            "echo": lines.append,
        },
        daemon=True,
    )
    simulator.start()
    try:
        wanted = dict.fromkeys(SECURE_TERMINALS, "ready")
        wait_for(
            lambda: states(console) == wanted,
            lambda: f"the console saw {states(console)}; broker log: {secure_broker.log()[-600:]}",
        )
    finally:
        stop.set()
        simulator.join(WAIT_S)
    assert not simulator.is_alive()
    assert "not authorised" not in secure_broker.log().lower()


def test_a_terminal_without_a_password_file_is_named_before_anything_connects(
    secure_broker: SecureBroker,
) -> None:
    credentials = str(secure_broker.files.folder / "credentials")
    with pytest.raises(SimulatorError, match=r"tls-0004.*broker-config --terminal tls-0004"):
        build_fleet(secure_broker.url, 4, prefix="tls", password_dir=credentials)


def test_the_cli_takes_the_password_folder_and_says_what_is_missing(
    secure_broker: SecureBroker, capsys: pytest.CaptureFixture[str]
) -> None:
    code = kiosk_main(
        [
            "fleet", "simulate", "--terminals", "2", "--prefix", "nobody",
            "--broker", secure_broker.url,
            "--ca-file", str(secure_broker.files.ca_certificate),
            "--password-dir", str(secure_broker.files.folder / "credentials"),
            "--duration", "0",
        ]
    )  # fmt: skip
    assert code == 64
    assert "no password for nobody-0001" in capsys.readouterr().err
