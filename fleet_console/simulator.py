"""A fleet of light simulated terminals in one process: `kiosk fleet simulate --terminals N`.

Each terminal runs the real fleet code — `kiosk.fleet` telemetry, alerts and signed commands, and
the `backend_client.fleet_mqtt` adapter with its own MQTT connection, last will and jittered
reconnect — over fake devices that now and then fault and recover (paper runs out, a reader goes
offline, a door alarm). Only the storage is light (in memory) and the doors are a dict, so
thousands fit on one machine: the console and the bench see what a real fleet would send.

`run_simulator(broker_url, terminals, ...)` is what the CLI calls; `python -m
fleet_console.simulator --broker mqtt://127.0.0.1:1883 --terminals 3` runs it directly (the tests
start one terminal this way and SIGKILL it).
"""

from __future__ import annotations

import argparse
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from backend_client.fleet_mqtt import BrokerSettings, FleetMqttLink, FleetNetwork
from kiosk.compartments.model import (
    Compartment,
    CompartmentState,
    DoorOpening,
    UnknownCompartment,
)
from kiosk.fleet import (
    CommandPorts,
    CommandProcessor,
    FleetTelemetry,
    MemoryFleetStore,
    RemoteConfig,
    RingLogHandler,
    build_handlers,
    load_public_key,
)
from kiosk.fleet.snapshot import SnapshotSources, build_snapshot
from kiosk.ports.health import DeviceHealth, HealthState
from kiosk.ports.lockers import DoorState, UnlockOutcome
from kiosk.ports.printer import PrinterNotReady
from kiosk.storage import Actor

_log = logging.getLogger(__name__)

SIZES = "SSSSMMMMMMMMLLLL"
_FAULTS: Sequence[tuple[str, HealthState, str]] = (
    ("printer", HealthState.FAULT, "the paper has run out; put in a new roll."),
    ("printer", HealthState.DEGRADED, "the paper roll is nearly used up; put in a new roll soon."),
    ("idcard", HealthState.OFFLINE, "the ID-card reader does not answer; check its USB cable."),
    ("scanner", HealthState.OFFLINE, "the code scanner does not answer; check its cable."),
    ("camera", HealthState.FAULT, "the document camera gives no picture; check its cable."),
)


class SimulatorError(Exception):
    """The simulated fleet cannot start as asked; the message says what to change."""


def read_terminal_password(password_dir: str, device_id: str) -> str:
    """The clear password `kiosk fleet broker-config` wrote for one terminal account.

    That command writes `credentials/<device-id>.password` beside the broker files; the
    simulator takes that folder, so a simulated fleet logs in exactly as real terminals would.
    """
    path = Path(password_dir) / f"{device_id}.password"
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as err:
        raise SimulatorError(
            f"no password for {device_id}: {path} cannot be read ({err.strerror}); give the "
            f"simulated ids to `kiosk fleet broker-config --terminal {device_id} …` and pass its "
            "credentials folder as --password-dir."
        ) from err


class FakeDevice:
    def __init__(self, name: str) -> None:
        self.name = name
        self.state = DeviceHealth(name, HealthState.OK)

    def health(self) -> DeviceHealth:
        return self.state


class FakeCompartments:
    """The RemoteCompartments port in memory: opening a door is recorded, never repeated by us."""

    def __init__(self, column: str) -> None:
        self._lock = threading.Lock()
        self.opened: list[int] = []
        self._by_number = {
            index + 1: Compartment(
                number=index + 1,
                column=column,
                size="S" if size == "S" else "M" if size == "M" else "L",
                row=index // 2 + 1,
                col=index % 2 + 1,
                state=CompartmentState.FREE,
                door=DoorState.CLOSED,
                item_present=False,
                in_map=True,
                service_note="",
                attention="",
            )
            for index, size in enumerate(SIZES)
        }

    def all(self) -> list[Compartment]:
        with self._lock:
            return list(self._by_number.values())

    def _get(self, number: int) -> Compartment:
        found = self._by_number.get(number)
        if found is None:
            raise UnknownCompartment(f"there is no compartment {number} on this terminal")
        return found

    def open_door(self, number: int, *, actor: Actor, reason: str) -> DoorOpening:
        with self._lock:
            compartment = self._get(number)
            self.opened.append(number)
            already = compartment.door is DoorState.OPEN
            self._by_number[number] = replace(compartment, door=DoorState.OPEN)
        outcome = UnlockOutcome.ALREADY_OPEN if already else UnlockOutcome.OPENED
        return DoorOpening(number, outcome, len(self.opened), False)

    def close(self, number: int) -> None:
        with self._lock:
            self._by_number[number] = replace(self._get(number), door=DoorState.CLOSED)

    def take_out_of_service(self, number: int, *, actor: Actor, reason: str) -> None:
        with self._lock:
            self._by_number[number] = replace(
                self._get(number), state=CompartmentState.OUT_OF_SERVICE, service_note=reason
            )

    def return_to_service(self, number: int, *, actor: Actor, note: str) -> Compartment:
        with self._lock:
            back = replace(self._get(number), state=CompartmentState.FREE, service_note="")
            self._by_number[number] = back
            return back

    def set_attention(self, number: int, text: str) -> None:
        with self._lock:
            self._by_number[number] = replace(self._get(number), attention=text)


class _Notice:
    def __init__(self) -> None:
        self.active = False

    def set_out_of_service(self, active: bool, message_zh: str, message_en: str) -> None:
        self.active = active


class _Printer:
    def __init__(self, device: FakeDevice) -> None:
        self._device = device

    def print_test_page(self) -> str:
        if self._device.state.state is not HealthState.OK:
            raise PrinterNotReady(self._device.state.reason)
        return "test page printed (simulated)"


class _SelfTest:
    def __init__(self, devices: dict[str, FakeDevice]) -> None:
        self._devices = devices

    def run_self_test(self) -> list[DeviceHealth]:
        return [device.health() for device in self._devices.values()]


class _Screen:
    def capture_png(self) -> bytes:
        # a valid 1×1 PNG: the simulator has no screen
        return bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360000002000185d3a1de0000000049454e44ae426082"
        )


class SimulatedTerminal:
    def __init__(
        self,
        device_id: str,
        broker: BrokerSettings,
        *,
        console_public_key: str = "",
        heartbeat_s: float = 900.0,
        poll_s: float = 30.0,
        seed: int = 0,
        restart: Callable[[int], None] | None = None,
        network: FleetNetwork | None = None,
    ) -> None:
        self.device_id = device_id
        self.rng = random.Random(seed)
        self.devices = {
            name: FakeDevice(name) for name in ("printer", "idcard", "sscard", "scanner", "camera")
        }
        self.column = FakeDevice("A")
        self.compartments = FakeCompartments("A")
        self.notice = _Notice()
        self.submissions = 0  # applications "taken" today, for the console's chart
        self.store = MemoryFleetStore()
        self.logs = RingLogHandler(200)
        config = RemoteConfig(self.store)
        self.telemetry = FleetTelemetry(device_id, self.store, heartbeat_s=heartbeat_s)
        ports = CommandPorts(
            compartments=self.compartments,
            printer=_Printer(self.devices["printer"]),
            self_test=_SelfTest(self.devices),
            screen=_Screen(),
            logs=self.logs,
            config=config,
            notice=self.notice,
            restarter=_Restart(restart) if restart is not None else None,
        )
        self.commands = CommandProcessor(
            self.store,
            load_public_key(console_public_key),
            build_handlers(ports),
            clock=time.time,
        )
        boot = datetime.now(UTC)
        sources = SnapshotSources(
            name=f"Simulated terminal {device_id}",
            app_version="0.1.0-sim",
            boot_time=boot,
            devices=self.devices,
            columns=(self.column,),
            compartments=self.compartments.all,
            system=lambda: (20_000.0, None),
            out_of_service=lambda: self.notice.active,
            config_version=lambda: config.reported.version,
            submissions_today=lambda: self.submissions,
        )
        self.link = FleetMqttLink(
            self.telemetry,
            self.commands,
            lambda: build_snapshot(sources),
            broker,
            poll_s=poll_s,
            rng=random.Random(seed + 1),
            network=network,
        )

    def start(self) -> None:
        self.link.start()

    def stop(self) -> None:
        self.link.stop()

    def fault(self, index: int | None = None) -> str:
        """Break something (or mend it, if it is already broken); return what happened."""
        name, state, reason = _FAULTS[self.rng.randrange(len(_FAULTS)) if index is None else index]
        device = self.devices[name]
        if device.state.state is HealthState.OK:
            device.state = DeviceHealth(name, state, reason, time.monotonic())
            what = f"{name} {state.value}"
        else:
            device.state = DeviceHealth(name, HealthState.OK)
            what = f"{name} ok"
        self.link.nudge()
        return what

    def take_application(self) -> None:
        """A citizen submitted here: the console's submissions chart moves."""
        self.submissions += 1
        self.link.nudge()


class _Restart:
    def __init__(self, action: Callable[[int], None]) -> None:
        self._action = action

    def request_restart(self, exit_code: int) -> None:
        self._action(exit_code)


@dataclass
class Fleet:
    """Terminals sharing one `FleetNetwork`: one selector thread and a few workers for all."""

    terminals: list[SimulatedTerminal]
    network: FleetNetwork

    def start(self, stagger_s: float = 0.0) -> None:
        self.network.start()
        for terminal in self.terminals:
            terminal.start()
            if stagger_s:
                time.sleep(stagger_s)  # spreading the first connects, not synchronising

    def stop(self) -> None:
        for terminal in self.terminals:
            terminal.stop()
        self.network.stop()

    def ready_count(self) -> int:
        return sum(t.link.connected for t in self.terminals)


def build_fleet(
    broker_url: str,
    terminals: int,
    *,
    prefix: str = "sim",
    console_public_key: str = "",
    keepalive_s: int = 30,
    heartbeat_s: float = 900.0,
    poll_s: float = 30.0,
    seed: int = 1,
    password: str = "",
    password_dir: str = "",
    ca_file: str = "",
) -> Fleet:
    """N terminals named <prefix>-0001…; each logs in as its device id (the fleet ACL's rule).

    `password` is one password for all (a test broker); `password_dir` holds one file per
    terminal as `kiosk fleet broker-config` writes them (a hardened broker) and wins if both are
    given. A missing file raises `SimulatorError` before any terminal connects.
    """
    ids = [f"{prefix}-{index + 1:04d}" for index in range(terminals)]
    passwords = {
        device_id: read_terminal_password(password_dir, device_id) if password_dir else password
        for device_id in ids
    }
    network = FleetNetwork(workers=2, name=f"fleet-{prefix}")
    fleet = []
    for index, device_id in enumerate(ids):
        broker = BrokerSettings(
            broker_url,
            username=device_id,
            password=passwords[device_id],
            ca_file=ca_file,
            keepalive_s=keepalive_s,
        )
        fleet.append(
            SimulatedTerminal(
                device_id,
                broker,
                console_public_key=console_public_key,
                heartbeat_s=heartbeat_s,
                poll_s=poll_s,
                seed=seed * 100_003 + index,
                network=network,
            )
        )
    return Fleet(fleet, network)


def run_simulator(
    broker_url: str,
    terminals: int,
    *,
    prefix: str = "sim",
    console_public_key: str = "",
    keepalive_s: int = 30,
    heartbeat_s: float = 900.0,
    fault_every_s: float = 60.0,
    duration_s: float | None = None,
    seed: int = 1,
    password: str = "",
    password_dir: str = "",
    ca_file: str = "",
    stop: threading.Event | None = None,
    echo: Callable[[str], None] = print,
) -> int:
    """Run until Ctrl-C, `stop` or `duration_s`; every `fault_every_s` one terminal changes
    and a few take an application.

    Returns 0. The CLI passes its parsed options straight through; a missing password file
    raises `SimulatorError`.
    """
    fleet = build_fleet(
        broker_url,
        terminals,
        prefix=prefix,
        console_public_key=console_public_key,
        keepalive_s=keepalive_s,
        heartbeat_s=heartbeat_s,
        seed=seed,
        password=password,
        password_dir=password_dir,
        ca_file=ca_file,
    )
    stop = stop or threading.Event()
    rng = random.Random(seed)
    fleet.start(stagger_s=0.002 if terminals > 50 else 0.0)
    echo(f"{terminals} simulated terminal(s) ({prefix}-0001…) on {broker_url}; Ctrl-C stops.")
    deadline = None if duration_s is None else time.monotonic() + duration_s
    try:
        while not stop.is_set():
            # no faults asked for (0): just wait for the stop or the deadline
            wait: float | None = fault_every_s if fault_every_s > 0 else None
            if deadline is not None:
                left = deadline - time.monotonic()
                wait = left if wait is None else min(wait, left)
                if wait <= 0:
                    break
            if stop.wait(wait):
                break
            if fault_every_s > 0 and (deadline is None or time.monotonic() < deadline):
                terminal = rng.choice(fleet.terminals)
                echo(f"{terminal.device_id}: {terminal.fault()}")
                for busy in rng.sample(fleet.terminals, max(1, len(fleet.terminals) // 4)):
                    busy.take_application()
    except KeyboardInterrupt:
        pass
    finally:
        fleet.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fleet-simulator", description=__doc__)
    parser.add_argument("--broker", default="mqtt://127.0.0.1:1883")
    parser.add_argument("--terminals", type=int, default=3)
    parser.add_argument("--prefix", default="sim")
    parser.add_argument("--console-public-key", default="")
    parser.add_argument("--password-dir", default="", help="credentials/ of broker-config")
    parser.add_argument("--ca-file", default="", help="the broker's CA certificate (mqtts)")
    parser.add_argument("--keepalive", type=int, default=30)
    parser.add_argument("--heartbeat", type=float, default=900.0)
    parser.add_argument("--fault-every", type=float, default=60.0)
    parser.add_argument("--duration", type=float, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    try:
        return _run(args)
    except SimulatorError as err:
        print(f"fleet-simulator: {err}", flush=True)
        return 64


def _run(args: argparse.Namespace) -> int:
    return run_simulator(
        args.broker,
        args.terminals,
        prefix=args.prefix,
        console_public_key=args.console_public_key,
        keepalive_s=args.keepalive,
        heartbeat_s=args.heartbeat,
        fault_every_s=args.fault_every,
        duration_s=args.duration,
        password_dir=args.password_dir,
        ca_file=args.ca_file,
        echo=lambda line: print(line, flush=True),
    )


if __name__ == "__main__":
    raise SystemExit(main())
