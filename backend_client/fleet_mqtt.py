"""The terminal's MQTT link to the fleet console: paho-mqtt 2.x, MQTT 5 (docs/fleet-protocol.md).

The rules live in the core (`kiosk.fleet`): what to publish, in what order, which commands to run.
This adapter moves bytes. Its threads belong to a `FleetNetwork`, which one terminal owns alone and
the simulator shares between thousands of links (a thread per connection did not scale: 2,000
terminals meant 6,000 threads fighting over the GIL, and keepalives were missed):

* one **network thread** runs a selector over every link's socket with paho's external-loop API
  (`loop_read`, `loop_write`, `loop_misc`), connects and reconnects with *full-jitter* exponential
  backoff (`reconnect_delay`) — after a broker restart thousands of terminals must not knock at the
  same instant, and paho's own reconnect has no jitter — and fires each link's poll timer;
* a few **workers** run each link's two lanes, each lane in order: *telemetry* (the only caller of
  `FleetTelemetry`: snapshots, connects, PUBACKs, log lines) and *commands* (one at a time, so a
  door that takes a second to open never holds up telemetry; replies go to the MQTT 5 response
  topic with the correlation data).

The last will sets `$state` = lost; an orderly `stop()` publishes `disconnected` first. The session
is persistent (clean start only the first time, session expiry one day), so a QoS 1 command sent
while the terminal was away is delivered when it returns — its signed expiry still applies.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import random
import selectors
import shutil
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from kiosk.fleet import CommandProcessor, FleetTelemetry, Publish, Reply, TerminalSnapshot

_log = logging.getLogger(__name__)

SESSION_EXPIRY_S = 24 * 3600
REPLY_EXPIRY_S = 600
DEFAULT_CONSOLE_ID = "console"


class FleetLinkError(Exception):
    """The fleet link cannot be set up; the message says which setting to fix."""


def reconnect_delay(
    attempt: int, random_fraction: float, base_s: float = 2.0, cap_s: float = 60.0
) -> float:
    """Full jitter: anywhere between 0.1 s and the exponential step (capped).

    Full rather than equal jitter because the dangerous case is the herd: every terminal of a
    city loses the broker at the same instant, and the first retry must already be spread out.
    """
    step = min(cap_s, base_s * 2.0 ** min(max(attempt - 1, 0), 30))
    return max(0.1, step * random_fraction)


@dataclass(frozen=True)
class BrokerSettings:
    url: str  # mqtt://host:1883 or mqtts://host:8883
    username: str = ""
    password: str = ""
    ca_file: str = ""
    client_cert_file: str = ""
    client_key_file: str = ""
    keepalive_s: int = 30

    def address(self) -> tuple[str, int, bool]:
        try:
            parts = urlsplit(self.url)
            port = parts.port
        except ValueError as err:
            raise FleetLinkError(
                f"fleet.broker_url {self.url!r} is not a valid URL ({err})."
            ) from err
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise FleetLinkError(
                f"fleet.broker_url {self.url!r} must look like mqtts://HOST:8883 or mqtt://HOST:1883."
            )
        tls = parts.scheme == "mqtts"
        return parts.hostname, port or (8883 if tls else 1883), tls


def read_password_file(path: str) -> str:
    if not path:
        return ""
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError as err:
        raise FleetLinkError(
            f"fleet.password_file {path} cannot be read ({err.strerror}); put this terminal's "
            "broker password there, readable by the kiosk user only."
        ) from err


@dataclass(frozen=True)
class SystemFigures:
    disk_free_mb: float | None
    cpu_temperature_c: float | None


def read_system_figures(
    data_dir: str, thermal_glob: str = "/sys/class/thermal/thermal_zone*/temp"
) -> SystemFigures:
    """Disk free where the database lives, and the hottest thermal zone (None if there is none)."""
    try:
        free_mb: float | None = shutil.disk_usage(data_dir or ".").free / 1_048_576
    except OSError:
        free_mb = None
    hottest: float | None = None
    for path in glob.glob(thermal_glob):
        with contextlib.suppress(OSError, ValueError):
            value = int(Path(path).read_text().strip()) / 1000.0
            hottest = value if hottest is None else max(hottest, value)
    return SystemFigures(free_mb, hottest)


def _published(info: mqtt.MQTTMessageInfo) -> bool:
    """PUBACK received; a message paho could not send (no connection) is simply not published
    — the durable row stays and goes again after the next connect."""
    try:
        return info.is_published()
    except (RuntimeError, ValueError):
        return False


def _send_packets_at_once(client: mqtt.Client, userdata: Any, sock: Any) -> None:
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _Lane:
    """Jobs of one link that must run in order (telemetry, or commands)."""

    def __init__(self) -> None:
        self.jobs: deque[Callable[[], None]] = deque()
        self.scheduled = False
        self.lock = threading.Lock()


class FleetNetwork:
    """The threads that drive fleet links: one selector thread and `workers` job threads."""

    def __init__(self, workers: int = 2, name: str = "fleet") -> None:
        self._name = name
        self._selector = selectors.DefaultSelector()
        self._selector_lock = threading.RLock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._requests: deque[Callable[[], None]] = deque()
        self._links: list[FleetMqttLink] = []
        self._ready: deque[_Lane] = deque()
        self._ready_signal = threading.Condition()
        self._workers = workers
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._loop_thread_id: int | None = None

    def start(self) -> None:
        if self._threads:
            return
        loop = threading.Thread(target=self._loop, name=f"{self._name}-net", daemon=True)
        self._threads.append(loop)
        for index in range(self._workers):
            worker = threading.Thread(
                target=self._work, name=f"{self._name}-worker-{index}", daemon=True
            )
            self._threads.append(worker)
        for thread in self._threads:
            thread.start()

    def stop(self, timeout_s: float = 3.0) -> None:
        self._stop.set()
        self._wake()
        with self._ready_signal:
            self._ready_signal.notify_all()
        for thread in self._threads:
            thread.join(timeout_s)
        self._threads = []
        with contextlib.suppress(OSError):
            self._wake_r.close()
            self._wake_w.close()

    # -- for links ----------------------------------------------------------------------------

    def add(self, link: FleetMqttLink) -> None:
        self.call_soon(lambda: self._links.append(link))

    def remove(self, link: FleetMqttLink) -> None:
        def drop() -> None:
            if link in self._links:
                self._links.remove(link)

        self.call_soon(drop)

    def call_soon(self, action: Callable[[], None]) -> None:
        """Run `action` on the network thread (selector and paho socket work happen only there)."""
        self._requests.append(action)
        self._wake()

    def on_network_thread(self) -> bool:
        return threading.get_ident() == self._loop_thread_id

    def watch(self, sock: Any, link: FleetMqttLink, write: bool) -> None:
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if write else 0)
        with self._selector_lock:
            try:
                self._selector.modify(sock, events, link)
            except KeyError:
                self._selector.register(sock, events, link)

    def unwatch(self, sock: Any) -> None:
        with self._selector_lock, contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(sock)

    def post(self, lane: _Lane, job: Callable[[], None]) -> None:
        with lane.lock:
            lane.jobs.append(job)
            if lane.scheduled:
                return
            lane.scheduled = True
        with self._ready_signal:
            self._ready.append(lane)
            self._ready_signal.notify()

    # -- threads ------------------------------------------------------------------------------

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def _loop(self) -> None:
        self._loop_thread_id = threading.get_ident()
        next_round = 0.0
        while not self._stop.is_set():
            events = self._selector.select(timeout=0.25)
            for key, mask in events:
                if key.data is None:
                    with contextlib.suppress(OSError):
                        while self._wake_r.recv(4096):
                            pass
                    continue
                link: FleetMqttLink = key.data
                link._on_io(mask)
            while self._requests:
                self._requests.popleft()()
            now = time.monotonic()
            if now >= next_round:
                next_round = now + 0.25
                for link in list(self._links):
                    link._housekeeping(now)

    def _work(self) -> None:
        while not self._stop.is_set():
            with self._ready_signal:
                while not self._ready and not self._stop.is_set():
                    self._ready_signal.wait(1.0)
                if self._stop.is_set():
                    return
                lane = self._ready.popleft()
            for _ in range(50):
                with lane.lock:
                    if not lane.jobs:
                        lane.scheduled = False
                        break
                    job = lane.jobs.popleft()
                job()
            else:
                with self._ready_signal:  # let other links' lanes have a turn
                    self._ready.append(lane)
                    self._ready_signal.notify()


class FleetMqttLink:
    """One terminal's connection to the fleet broker."""

    def __init__(
        self,
        telemetry: FleetTelemetry,
        commands: CommandProcessor,
        snapshot: Callable[[], TerminalSnapshot],
        broker: BrokerSettings,
        *,
        poll_s: float = 5.0,
        tick_s: float = 5.0,
        client_id: str | None = None,
        rng: random.Random | None = None,
        network: FleetNetwork | None = None,
    ) -> None:
        self._telemetry = telemetry
        self._commands = commands
        self._snapshot = snapshot
        self._broker = broker
        self._host, self._port, self._tls = broker.address()
        self._poll_s = poll_s
        self._tick_s = tick_s
        self._rng = rng or random.Random()
        self._own_network = network is None
        self._network = network or FleetNetwork(
            workers=2, name=f"fleet-{telemetry.topics.device_id}"
        )
        self.topics = telemetry.topics
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or self.topics.device_id,
            protocol=mqtt.MQTTv5,
        )
        self._configure_client()
        self._telemetry_lane = _Lane()
        self._command_lane = _Lane()
        # network-thread state
        self._sock: Any = None
        self._attempt = 0
        self._next_connect_at = 0.0
        self._next_poll_at = 0.0
        self._next_tick_at = 0.0
        self._accepted_this_socket = False
        self._running = False
        self._write_watched = False
        # durable outbox rows handed to paho, with paho's receipt (telemetry lane only)
        self._durable: list[tuple[mqtt.MQTTMessageInfo, int]] = []
        self._durable_in_flight = 0
        self._connected = threading.Event()
        # set once the broker acknowledged the command subscription: a command published
        # before that would find no subscriber and be lost
        self._listening = threading.Event()
        self._command_subscription_mid: int | None = None
        self._closed = threading.Event()
        self._closed.set()
        self.connects = 0  # how many times the broker accepted us (for tests and the bench)

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        if self._running:
            return
        self._running = True
        if self._own_network:
            self._network.start()
        self._network.add(self)

    def stop(self, timeout_s: float = 3.0) -> None:
        """Orderly: `$state` = disconnected (waited for), then DISCONNECT (so no will)."""
        if not self._running:
            return
        if self._connected.is_set():
            for publish in self._telemetry.stopping():
                info = self._client.publish(publish.topic, publish.payload, qos=1, retain=True)
                with contextlib.suppress(RuntimeError, ValueError):
                    info.wait_for_publish(timeout_s)
        self._running = False
        self._network.remove(self)
        if self._sock is not None:
            self._client.disconnect()
            self._closed.wait(timeout_s)
        if self._own_network:
            self._network.stop(timeout_s)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout_s: float) -> bool:
        """Connected *and* subscribed to commands (the broker acknowledged the subscription)."""
        return self._listening.wait(timeout_s)

    def nudge(self) -> None:
        """Take a snapshot now (a device changed health, a door moved)."""
        self._network.post(self._telemetry_lane, self._poll)

    def log_record(self, record: logging.LogRecord) -> None:
        """For `RingLogHandler(forward=...)`: publish this line on `$log/<level>`."""
        when = datetime.fromtimestamp(record.created, UTC)
        level, name, message = record.levelname.lower(), record.name, record.getMessage()
        self._network.post(
            self._telemetry_lane,
            lambda: self._publish_all(self._telemetry.log(level, name, message, when)),
        )

    # -- network thread -----------------------------------------------------------------------

    def _configure_client(self) -> None:
        client = self._client
        if self._broker.username:
            client.username_pw_set(self._broker.username, self._broker.password or None)
        if self._tls:
            try:
                client.tls_set(
                    ca_certs=self._broker.ca_file or None,
                    certfile=self._broker.client_cert_file or None,
                    keyfile=self._broker.client_key_file or None,
                    tls_version=ssl.PROTOCOL_TLS_CLIENT,
                )
            except (OSError, ssl.SSLError, ValueError) as err:
                raise FleetLinkError(
                    f"The TLS files for the fleet broker cannot be used ({err}); check "
                    "fleet.ca_file, fleet.client_cert_file and fleet.client_key_file."
                ) from err
        will = self._telemetry.will()
        client.will_set(will.topic, will.payload, qos=1, retain=True)
        client.on_socket_open = self._on_socket_open
        client.on_socket_close = self._on_socket_close
        client.on_socket_register_write = self._on_register_write
        client.on_socket_unregister_write = self._on_unregister_write
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        client.on_publish = self._on_publish

    def _housekeeping(self, now: float) -> None:
        if not self._running:
            return
        if self._sock is None and now >= self._next_connect_at:
            self._try_connect(now)
        elif self._sock is not None and self._client.loop_misc() != mqtt.MQTT_ERR_SUCCESS:
            self._connection_ended()
        if now >= self._next_poll_at:
            self._next_poll_at = now + self._poll_s
            self._next_tick_at = now + self._tick_s
            self._network.post(self._telemetry_lane, self._poll)
        elif now >= self._next_tick_at:
            self._next_tick_at = now + self._tick_s
            self._network.post(self._telemetry_lane, self._tick)

    def _try_connect(self, now: float) -> None:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        self._accepted_this_socket = False
        try:
            self._client.connect(
                self._host,
                self._port,
                keepalive=self._broker.keepalive_s,
                clean_start=mqtt.MQTT_CLEAN_START_FIRST_ONLY,
                properties=properties,
            )
        except (OSError, ssl.SSLError, ValueError) as err:
            self._attempt += 1
            if self._attempt == 1 or self._attempt % 10 == 0:
                _log.warning(
                    "The fleet broker %s:%s cannot be reached (%s); trying again.",
                    self._host,
                    self._port,
                    err,
                )
            self._next_connect_at = now + reconnect_delay(self._attempt, self._rng.random())
            return
        self._closed.clear()

    def _on_io(self, mask: int) -> None:
        rc = mqtt.MQTT_ERR_SUCCESS
        if mask & selectors.EVENT_READ:
            rc = self._client.loop_read()
        if rc == mqtt.MQTT_ERR_SUCCESS and mask & selectors.EVENT_WRITE and self._sock is not None:
            rc = self._client.loop_write()
        if rc != mqtt.MQTT_ERR_SUCCESS or self._client.socket() is None:
            self._connection_ended()

    def _connection_ended(self) -> None:
        if self._sock is not None:
            self._network.unwatch(self._sock)
            self._sock = None
        self._closed.set()
        self._mark_disconnected()
        self._attempt = 1 if self._accepted_this_socket else self._attempt + 1
        self._next_connect_at = time.monotonic() + reconnect_delay(
            self._attempt, self._rng.random()
        )

    def _on_socket_open(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        _send_packets_at_once(client, userdata, sock)
        self._sock = sock
        self._write_watched = client.want_write()
        self._network.watch(sock, self, write=self._write_watched)

    def _on_socket_close(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        self._network.unwatch(sock)
        if sock is self._sock:
            self._sock = None
            self._closed.set()
            if not self._network.on_network_thread():
                self._network.call_soon(self._connection_ended)

    def _on_register_write(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        # called for every publish: one request per burst is enough (a full state is ~80)
        if not self._write_watched:
            self._write_watched = True
            self._network.call_soon(lambda: self._rewatch(sock, True))

    def _on_unregister_write(self, client: mqtt.Client, userdata: Any, sock: Any) -> None:
        if self._write_watched:
            self._write_watched = False
            self._network.call_soon(lambda: self._rewatch(sock, False))

    def _rewatch(self, sock: Any, write: bool) -> None:
        if sock is self._sock and self._sock is not None:
            # the latest wish wins: a burst may have asked again since this was queued
            self._network.watch(sock, self, write=self._write_watched or self._client.want_write())

    def _mark_disconnected(self) -> None:
        self._listening.clear()
        if self._connected.is_set():
            self._connected.clear()
            self._network.post(self._telemetry_lane, self._disconnected)

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            _log.error(
                "The fleet broker refused this terminal (%s); check fleet.username and "
                "fleet.password_file.",
                reason_code,
            )
            return
        _result, self._command_subscription_mid = client.subscribe(self.topics.commands, qos=1)
        self.connects += 1
        self._accepted_this_socket = True
        self._connected.set()
        self._network.post(self._telemetry_lane, self._just_connected)

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reason_codes: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        if mid != self._command_subscription_mid:
            return
        if any(code.is_failure for code in reason_codes):
            _log.error(
                "The fleet broker refused this terminal's command subscription (%s); check the "
                "broker's ACL for %s.",
                ", ".join(str(code) for code in reason_codes),
                self.topics.commands,
            )
            return
        self._listening.set()

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self._mark_disconnected()

    def _on_publish(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reason_code: ReasonCode,
        properties: Properties | None,
    ) -> None:
        # Never take a lock here: paho holds its own message lock while calling this, and
        # `publish()` on a worker takes that lock — the telemetry lane checks which of its
        # durable rows are now published.
        if self._durable_in_flight:
            self._network.post(self._telemetry_lane, self._take_acknowledged)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        if message.topic != self.topics.commands:
            return
        props = message.properties
        response = getattr(props, "ResponseTopic", None) if props is not None else None
        correlation = getattr(props, "CorrelationData", None) if props is not None else None
        if not isinstance(response, str) or not self.topics.accepts_reply_topic(response):
            response = self.topics.reply(DEFAULT_CONSOLE_ID)
        payload = bytes(message.payload)
        data = bytes(correlation) if correlation else None
        self._network.post(
            self._command_lane, lambda: self._run_command(payload, str(response), data)
        )

    # -- telemetry lane -----------------------------------------------------------------------

    def _poll(self) -> None:
        self._publish_all(
            self._telemetry.observe(self._snapshot(), datetime.now(UTC), time.monotonic())
        )

    def _tick(self) -> None:
        self._publish_all(self._telemetry.tick(datetime.now(UTC), time.monotonic()))

    def _just_connected(self) -> None:
        now, mono = datetime.now(UTC), time.monotonic()
        if self._telemetry.connected:
            self._telemetry.on_disconnected()  # a disconnect we did not see in time
        self._telemetry.observe(self._snapshot(), now, mono)
        self._publish_all(self._telemetry.on_connected(now, mono))

    def _disconnected(self) -> None:
        self._telemetry.on_disconnected()
        self._durable.clear()
        self._durable_in_flight = 0

    def _publish_all(self, publishes: list[Publish]) -> None:
        for publish in publishes:
            info = self._client.publish(
                publish.topic, publish.payload, qos=1, retain=publish.retain
            )
            if publish.outbound_seq is not None:
                self._durable.append((info, publish.outbound_seq))
        self._durable_in_flight = len(self._durable)
        if any(_published(info) for info, _ in self._durable):
            self._network.post(self._telemetry_lane, self._take_acknowledged)

    def _take_acknowledged(self) -> None:
        out: list[Publish] = []
        waiting: list[tuple[mqtt.MQTTMessageInfo, int]] = []
        for info, seq in self._durable:
            if _published(info):
                out += self._telemetry.acknowledged(seq)
            else:
                waiting.append((info, seq))
        self._durable = waiting
        self._durable_in_flight = len(waiting)
        if out:
            self._publish_all(out)

    # -- command lane -------------------------------------------------------------------------

    def _run_command(self, payload: bytes, response_topic: str, correlation: bytes | None) -> None:
        def send(reply: Reply) -> None:
            properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            properties.MessageExpiryInterval = REPLY_EXPIRY_S
            if correlation is not None:
                properties.CorrelationData = correlation
            self._client.publish(response_topic, reply.payload(), qos=1, properties=properties)

        self._commands.process(payload, send)
