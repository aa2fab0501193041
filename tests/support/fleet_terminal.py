"""Shared pieces for the fleet terminal tests: a terminal database with the fleet tables, a door
world over the real CompartmentService and a fake column, and signed commands.

Migration 0009 (`kiosk/storage/migrations/0009_fleet.sql`) is packaged; should it be parked as
`0009_fleet.sql.pending` (while an earlier number is missing), it is appended after the packaged
ones, so these tests run whatever the numbering state of the tree.
"""

from __future__ import annotations

import base64
import contextlib
import select
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from paho.mqtt.enums import CallbackAPIVersion

from kiosk.compartments import CompartmentService
from kiosk.compartments.testing import FakeLockerColumn, column_specs
from kiosk.fleet import Command, sign_command
from kiosk.storage import AuditLog, Database, Migration, load_migrations

MIGRATIONS = Path(__file__).resolve().parents[2] / "kiosk" / "storage" / "migrations"


def fleet_migrations() -> list[Migration]:
    packaged = load_migrations()
    if any(m.name == "fleet" for m in packaged):
        return packaged
    pending = MIGRATIONS / "0009_fleet.sql.pending"
    return [*packaged, Migration(packaged[-1].version + 1, "fleet", pending.read_text("utf-8"))]


def open_fleet_database(path: Path) -> Database:
    return Database.open(path, migrations=fleet_migrations())


@dataclass
class DoorWorld:
    database: Database
    audit: AuditLog
    column: FakeLockerColumn
    compartments: CompartmentService


def door_world(path: Path) -> DoorWorld:
    database = open_fleet_database(path)
    audit = AuditLog(database)
    column = FakeLockerColumn("A", column_specs("A", "SSMMLL"))
    service = CompartmentService(database, audit, [column])
    column.start(service.locker_event_sink())
    service.start_up()
    return DoorWorld(database, audit, column, service)


class ConsoleKey:
    """The console's key pair, as `kiosk fleet keygen` would make it."""

    def __init__(self) -> None:
        self.private = Ed25519PrivateKey.generate()
        raw = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.public_b64 = base64.b64encode(raw).decode("ascii")

    def command(
        self,
        name: str,
        args: Mapping[str, Any] | None = None,
        *,
        issuer: str = "wang.tech",
        now: float | None = None,
        lifetime_s: int = 300,
        command_id: str | None = None,
    ) -> tuple[Command, bytes]:
        issued = int(time.time() if now is None else now)
        command = Command(
            command_id or uuid.uuid4().hex,
            issuer,
            issued,
            issued + lifetime_s,
            name,
            dict(args or {}),
        )
        return command, sign_command(command, self.private)


class CuttableLink:
    """A TCP relay between a terminal and the broker that a test can cut and restore.

    Cutting it is "the broker became unreachable" for that terminal only, while a test subscriber
    stays connected to the broker directly and sees every message in the order it arrived.
    """

    def __init__(self, upstream_port: int) -> None:
        self._upstream = upstream_port
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port = int(self._listener.getsockname()[1])
        self._open = threading.Event()
        self._open.set()
        self._closing = False
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def cut(self) -> None:
        self._open.clear()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for a, b in pairs:
            for sock in (a, b):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def restore(self) -> None:
        self._open.set()

    def close(self) -> None:
        self._closing = True
        self.cut()
        self._listener.close()

    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if not self._open.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self._upstream), timeout=2)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        sockets = [a, b]
        try:
            while True:
                readable, _, _ = select.select(sockets, [], [], 1.0)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    (b if sock is a else a).sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in sockets:
                with contextlib.suppress(OSError):
                    sock.close()


class Recorder:
    """A plain MQTT 5 subscriber that keeps every message in arrival order."""

    def __init__(self, port: int, *topics: str) -> None:
        self.messages: list[tuple[str, bytes, Any]] = []
        self._changed = threading.Condition()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *args: subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.subscribe([(topic, 1) for topic in topics])
        self.client.loop_start()
        if not subscribed.wait(10):
            raise RuntimeError("the test subscriber got no SUBACK within 10 s")

    def _on_message(self, client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._changed:
            self.messages.append((message.topic, bytes(message.payload), message.properties))
            self._changed.notify_all()

    def latest(self, topic: str) -> bytes | None:
        with self._changed:
            found = [payload for t, payload, _ in self.messages if t == topic]
        return found[-1] if found else None

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"waited {timeout_s:g} s for {what}")
                self._changed.wait(min(left, 0.2))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
