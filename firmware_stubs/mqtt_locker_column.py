"""A networked locker-column controller, emulated: it joins a real MQTT broker and speaks MQTT.

It is the far side of docs/mqtt-locker-protocol.md, as a column's controller board on the LAN would
be: it announces itself with a retained `online` status and leaves an `offline` last will, publishes
the doors and item sensors as one retained snapshot after every change, pulses a lock for each
unlock command, refuses a command that arrives after its expiry, and answers a command id it has
already handled with the stored answer instead of pulsing again.

The world acts on it through `control(cmd, args)` (the same JSON-lines control server as the serial
stubs): open or close a door by hand, put in or take out an item, jam a lock, lose power or the
network cable, run its clock wrong, be slow, lose replies. `MosquittoBroker` starts a private
Mosquitto for the demo and the tests; `start_from_settings` starts what a configuration names.

Run one controller as its own process (a test can then kill it the hard way):
`python -m firmware_stubs.mqtt_locker_column --broker mqtt://127.0.0.1:1883 --controller-id col-a`
"""

from __future__ import annotations

import argparse
import contextlib
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from devices.mqtt_lockers.codec import (
    BadMessage,
    ColumnTopics,
    decode_command,
    encode_reply,
    encode_state,
    encode_status,
    is_expired,
    reply_address,
)
from devices.mqtt_lockers.driver import send_packets_at_once
from devices.mqtt_lockers.messages import (
    ColumnState,
    CommandReply,
    CommandResult,
    ControllerStatus,
    DoorPosition,
    LockState,
    RefusalReason,
    UnlockCommand,
)
from firmware_stubs.loopback import free_port

MOSQUITTO = "/usr/sbin/mosquitto"


@dataclass
class _Compartment:
    door: DoorPosition = DoorPosition.CLOSED
    item: bool | None = False
    jammed: bool = False
    pulses: int = 0  # how many times the lock was really pulsed (what a duplicate must not raise)


class LockerColumnController:
    """One emulated controller; thread-safe, driven by paho's thread, its worker and `control`."""

    def __init__(
        self,
        controller_id: str,
        broker_url: str,
        locks: Iterable[tuple[int, int]],
        *,
        item_sensors: bool = True,
        name: str | None = None,
        remembered_commands: int = 256,
        keepalive_s: int = 5,
    ) -> None:
        self.topics = ColumnTopics(controller_id)
        self.name = name or f"mqtt-lockers-{controller_id}"
        parts = urlsplit(broker_url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 1883
        self._keepalive = keepalive_s
        self._compartments = {
            wire: _Compartment(item=False if item_sensors else None) for wire in locks
        }
        self._lock = threading.RLock()
        self._seq = 0
        self._answered: OrderedDict[str, CommandReply] = OrderedDict()
        self._remembered = remembered_commands
        self._commands: queue.Queue[UnlockCommand | None] = queue.Queue()
        self._connected = threading.Event()
        self._client: mqtt.Client | None = None
        self._worker: threading.Thread | None = None
        # faults the world can inject
        self.command_delay_s = 0.0
        self.clock_skew_ms = 0
        self.replies_to_drop = 0

    # -- life cycle -----------------------------------------------------------------------------
    def start(self) -> LockerColumnController:
        if self._worker is None:
            self._worker = threading.Thread(
                target=self._work, name=f"{self.name}-worker", daemon=True
            )
            self._worker.start()
        self._connect()
        return self

    def stop(self) -> None:
        """Shut down as a power cut would look to the terminal: the broker sends the will."""
        self.power_off()
        if self._worker is not None:
            self._commands.put(None)
            self._worker.join(timeout=2)
            self._worker = None

    def power_off(self) -> None:
        client, self._client = self._client, None
        self._connected.clear()
        if client is None:
            return
        client.disconnect(reasoncode=ReasonCode(PacketTypes.DISCONNECT, identifier=4))
        client.loop_stop()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def _connect(self) -> None:
        if self._client is not None:
            return
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"locker-controller-{self.topics.controller_id}",
            protocol=mqtt.MQTTv5,
        )
        client.will_set(
            self.topics.status, encode_status(ControllerStatus(online=False)), qos=1, retain=True
        )
        client.reconnect_delay_set(min_delay=1, max_delay=2)
        client.on_socket_open = send_packets_at_once
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.connect_async(self._host, self._port, keepalive=self._keepalive, clean_start=True)
        self._client = client
        client.loop_start()

    # -- MQTT ------------------------------------------------------------------------------------
    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Any,
    ) -> None:
        if reason_code.is_failure:
            return
        client.subscribe(self.topics.command, qos=1)
        # A restarted broker has lost the retained messages: say everything again on each connect.
        client.publish(
            self.topics.status, encode_status(ControllerStatus(online=True)), qos=1, retain=True
        )
        self._publish_state()
        self._connected.set()

    def _on_disconnect(self, *args: Any) -> None:
        self._connected.clear()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        payload = bytes(message.payload)
        try:
            command = decode_command(payload)
        except BadMessage:
            address = reply_address(payload)
            if address is not None:  # else there is nobody to answer
                command_id, reply_to = address
                refusal = CommandReply(command_id, CommandResult.REFUSED, RefusalReason.BAD_COMMAND)
                client.publish(reply_to, encode_reply(refusal), qos=1)
            return
        self._commands.put(command)

    def _work(self) -> None:
        """Commands run one at a time, in arrival order, as on the real board's bus."""
        while True:
            command = self._commands.get()
            if command is None:
                self._commands.task_done()
                return
            if self.command_delay_s:
                time.sleep(self.command_delay_s)  # the emulated controller is busy or slow
            reply = self.execute(command, self.now_ms())
            with self._lock:
                drop = self.replies_to_drop > 0
                self.replies_to_drop -= 1 if drop else 0
            client = self._client
            if not drop and client is not None:
                client.publish(command.reply_to, encode_reply(reply), qos=1)
            self._commands.task_done()

    def is_idle(self) -> bool:
        """True when every command received so far has been carried out (or refused)."""
        return self._commands.unfinished_tasks == 0

    def now_ms(self) -> int:
        return time.time_ns() // 1_000_000 + self.clock_skew_ms

    # -- the controller's logic -------------------------------------------------------------------
    def execute(self, command: UnlockCommand, now_ms: int) -> CommandReply:
        """Carry out one command exactly once per id, whatever the number of deliveries."""
        with self._lock:
            stored = self._answered.get(command.command_id)
            if stored is not None:
                return CommandReply(stored.command_id, stored.result, stored.reason, replayed=True)
            compartment = self._compartments.get((command.board, command.lock))
            if is_expired(command, now_ms):
                reply = CommandReply(
                    command.command_id, CommandResult.REFUSED, RefusalReason.EXPIRED
                )
            elif compartment is None:
                reply = CommandReply(
                    command.command_id, CommandResult.REFUSED, RefusalReason.NO_SUCH_LOCK
                )
            else:
                reply = CommandReply(command.command_id, self._pulse(compartment))
            self._answered[command.command_id] = reply
            while len(self._answered) > self._remembered:
                self._answered.popitem(last=False)
        if reply.result is CommandResult.OPENED and not reply.replayed:
            self._publish_state()
        return reply

    def _pulse(self, compartment: _Compartment) -> CommandResult:
        compartment.pulses += 1
        if compartment.door is DoorPosition.OPEN:
            return CommandResult.ALREADY_OPEN
        if compartment.jammed:
            return CommandResult.JAMMED
        compartment.door = DoorPosition.OPEN
        return CommandResult.OPENED

    def snapshot(self) -> ColumnState:
        with self._lock:
            return ColumnState(
                seq=self._seq,
                locks=tuple(
                    LockState(board, lock, c.door, c.item)
                    for (board, lock), c in sorted(self._compartments.items())
                ),
            )

    def _publish_state(self) -> None:
        with self._lock:
            self._seq += 1
            payload = encode_state(self.snapshot())
            client = self._client
            if client is not None:
                # Published under the lock so two changes cannot reach the broker out of order.
                client.publish(self.topics.state, payload, qos=1, retain=True)

    # -- the world ---------------------------------------------------------------------------------
    def control(self, command: str, args: dict[str, object]) -> dict[str, object]:
        actions: dict[str, Callable[[dict[str, object]], dict[str, object]]] = {
            "open_door": lambda a: self._set(a, door=DoorPosition.OPEN),
            "close_door": lambda a: self._set(a, door=DoorPosition.CLOSED),
            "put_item": lambda a: self._set(a, item=True),
            "remove_item": lambda a: self._set(a, item=False),
            "jam": lambda a: self._set(a, jammed=bool(a.get("on", True))),
            "doors": lambda a: self._describe(),
            "pulses": lambda a: {"pulses": self._find(a).pulses},
            "power_off": lambda a: self._world(self.power_off),
            "unplug": lambda a: self._world(self.power_off),
            "power_on": lambda a: self._world(self._connect),
            "replug": lambda a: self._world(self._connect),
            "slow": lambda a: self._fault(command_delay_s=float(str(a.get("seconds", 3.0)))),
            "clock_skew": lambda a: self._fault(clock_skew_ms=int(str(a.get("ms", 0)))),
            "drop_replies": lambda a: self._fault(replies_to_drop=int(str(a.get("count", 1)))),
        }
        action = actions.get(command)
        if action is None:
            raise KeyError(f"unknown command {command!r}; known: {sorted(actions)}")
        return action(args)

    def _find(self, args: dict[str, object]) -> _Compartment:
        wire = (int(str(args.get("board", 0))), int(str(args["lock"])))
        compartment = self._compartments.get(wire)
        if compartment is None:
            raise ValueError(f"there is no board {wire[0]} lock {wire[1]} on this column")
        return compartment

    def _set(self, args: dict[str, object], **changes: Any) -> dict[str, object]:
        with self._lock:
            compartment = self._find(args)
            if "item" in changes and compartment.item is None:
                raise ValueError("this compartment has no item sensor")
            for key, value in changes.items():
                setattr(compartment, key, value)
        self._publish_state()
        return {"ok": True}

    def _describe(self) -> dict[str, object]:
        with self._lock:
            return {
                "doors": {
                    f"{board}-{lock}": {
                        "door": c.door.value,
                        "item": c.item,
                        "jammed": c.jammed,
                        "pulses": c.pulses,
                    }
                    for (board, lock), c in sorted(self._compartments.items())
                }
            }

    def _world(self, action: Callable[[], None]) -> dict[str, object]:
        action()
        return {"ok": True}

    def _fault(self, **values: Any) -> dict[str, object]:
        with self._lock:
            for key, value in values.items():
                setattr(self, key, value)
        return {"ok": True}


class MosquittoBroker:
    """A private Mosquitto on a loopback port, with a throw-away config (for the demo and tests).

    Debian's mosquitto drops to user `mosquitto` when started as root, so nothing it needs may live
    in a root-only folder: the config is written world-readable and no pid file is used.
    """

    name = "mqtt-broker"

    def __init__(self, port: int = 0, executable: str = MOSQUITTO) -> None:
        self.port = port
        self._executable = executable
        self._folder = Path(tempfile.mkdtemp(prefix="kiosk-mosquitto-"))
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> MosquittoBroker:
        if shutil.which(self._executable) is None:
            raise RuntimeError(
                f"{self._executable} is not installed; install the Debian package 'mosquitto'."
            )
        if self.port == 0:
            self.port = free_port()
        self._folder.chmod(0o755)
        config = self._folder / "mosquitto.conf"
        config.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "set_tcp_nodelay true\n"
            "log_type error\nlog_type warning\n"
        )
        config.chmod(0o644)
        log_path = self._folder / "mosquitto.log"
        with log_path.open("ab") as log_file:
            self._process = subprocess.Popen(
                [self._executable, "-c", str(config)], stdout=log_file, stderr=log_file
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                break
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2),
            ):
                return self
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(
            f"mosquitto did not start on 127.0.0.1:{self.port}: "
            f"{log_path.read_text(errors='replace')[-500:]}"
        )

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def restart(self) -> None:
        """Same port, empty memory: sessions and retained messages are gone, as after a reboot."""
        self.stop()
        self.start()

    def control(self, command: str, args: dict[str, object]) -> dict[str, object]:
        if command == "restart":
            self.restart()
        elif command == "stop":
            self.stop()
        elif command == "start":
            self.start()
        else:
            raise KeyError(f"unknown command {command!r}; known: ['restart', 'start', 'stop']")
        return {"ok": True}

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self._folder, ignore_errors=True)


class _Stub(Protocol):
    name: str

    def control(self, command: str, args: dict[str, object]) -> dict[str, object]: ...

    def stop(self) -> None: ...


class _OwnedBroker:
    """The broker as `kiosk stubs start` sees it: stopping it also removes its temp folder."""

    def __init__(self, broker: MosquittoBroker) -> None:
        self.broker = broker
        self.name = broker.name

    def control(self, command: str, args: dict[str, object]) -> dict[str, object]:
        return self.broker.control(command, args)

    def stop(self) -> None:
        self.broker.cleanup()


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.3):
            return True
    except OSError:
        return False


def start_from_settings(settings: Any) -> list[_Stub]:
    """Start a controller for every MQTT column of `settings` whose broker is on loopback.

    If nothing listens on that loopback broker port yet, a private Mosquitto is started there
    first (and returned too, named `mqtt-broker`), so `kiosk stubs start` is all the demo needs.
    """
    stubs: list[_Stub] = []
    brokers: dict[int, _Stub] = {}
    for column in settings.devices.locker_columns:
        if column.transport != "mqtt":
            continue
        parts = urlsplit(column.broker)
        if parts.scheme != "mqtt" or parts.hostname not in ("127.0.0.1", "localhost"):
            continue
        port = parts.port or 1883
        if port not in brokers and not _listening("127.0.0.1", port):
            broker = _OwnedBroker(MosquittoBroker(port).start())
            brokers[port] = broker
            stubs.append(broker)
        controller = LockerColumnController(
            column.controller_id or f"column-{column.name}",
            f"mqtt://127.0.0.1:{port}",
            [(c.board, c.lock) for c in column.compartments],
            name=f"mqtt-lockers-{column.name}",
        )
        stubs.append(controller.start())
    return stubs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--broker", required=True, help="mqtt://HOST:PORT")
    parser.add_argument("--controller-id", required=True)
    parser.add_argument("--boards", type=int, default=1)
    parser.add_argument("--locks", type=int, default=16, help="locks per board")
    parser.add_argument("--no-item-sensors", action="store_true")
    args = parser.parse_args(argv)
    controller = LockerColumnController(
        args.controller_id,
        args.broker,
        [(b, lock) for b in range(args.boards) for lock in range(1, args.locks + 1)],
        item_sensors=not args.no_item_sensors,
    ).start()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    if controller.wait_connected(10):
        print("ready", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        done.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
