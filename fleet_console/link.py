"""The console's MQTT session: reads every terminal's tree and replies, sends signed commands.

paho-mqtt 2 with MQTT 5, because commands use request/response properties (response topic,
correlation data) and a Message Expiry Interval so a broker drops a command nobody picked up in
time instead of delivering it late. paho's network thread feeds the ingest; it reconnects by itself.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from .commands import COMMANDS
from .ingest import Ingest
from .protocol import (
    HOMIE_ROOT,
    Command,
    check_device_id,
    command_topic,
    new_command,
    reply_subscription,
    reply_topic,
    sign_command,
)
from .store import ConsoleStore

log = logging.getLogger(__name__)


class LinkError(Exception):
    """The broker cannot be reached or refused the console; the message says what to check."""


@dataclass(frozen=True)
class BrokerSettings:
    url: str
    username: str = ""
    password: str = ""
    ca_file: str = ""
    client_cert_file: str = ""
    client_key_file: str = ""
    keepalive_s: int = 30

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or "127.0.0.1"

    @property
    def tls(self) -> bool:
        return urlsplit(self.url).scheme == "mqtts"

    @property
    def port(self) -> int:
        parts = urlsplit(self.url)
        return parts.port or (8883 if self.tls else 1883)

    @classmethod
    def from_url(cls, url: str, *, password_file: str = "", **others: Any) -> BrokerSettings:
        """`mqtt://user:password@host:port` or `mqtts://…`; a password file wins over the URL."""
        try:
            parts = urlsplit(url)
            _ = parts.port
        except ValueError as err:
            raise LinkError(f"The broker address {url!r} is not a valid URL ({err}).") from err
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise LinkError(
                f"The broker address {url!r} must look like mqtt://HOST:PORT or mqtts://HOST:PORT."
            )
        username = others.pop("username", "") or unquote(parts.username or "")
        password = unquote(parts.password or "")
        if password_file:
            try:
                password = Path(password_file).read_text(encoding="utf-8").strip()
            except OSError as err:
                raise LinkError(
                    f"The broker password file {password_file} cannot be read ({err.strerror})."
                ) from err
        bare = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return cls(url=bare, username=username, password=password, **others)


def _no_nagle(client: mqtt.Client, userdata: Any, sock: Any) -> None:
    """Small packets go out at once; with Nagle each waited ~40 ms for an ACK on loopback."""
    if isinstance(sock, socket.socket):
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class ConsoleLink:
    """One MQTT session of the console (client id `fleet-console-<console id>`)."""

    def __init__(
        self,
        broker: BrokerSettings,
        ingest: Ingest,
        *,
        console_id: str,
        issuer: str,
        signing_key: Ed25519PrivateKey | None,
        clock: Callable[[], float] = time.time,
        telemetry_filter: str | None = f"{HOMIE_ROOT}/#",
    ) -> None:
        self.broker = broker
        self.console_id = check_device_id(console_id)
        self.issuer = issuer
        self._ingest = ingest
        self._key = signing_key
        self._clock = clock
        self._telemetry_filter = telemetry_filter
        self._connected = threading.Event()
        self._refused: ReasonCode | None = None
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"fleet-console-{self.console_id}",
            protocol=mqtt.MQTTv5,
        )
        if broker.username:
            self._client.username_pw_set(broker.username, broker.password or None)
        if broker.tls:
            context = ssl.create_default_context(cafile=broker.ca_file or None)
            if broker.client_cert_file:
                context.load_cert_chain(broker.client_cert_file, broker.client_key_file or None)
            self._client.tls_set_context(context)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)
        self._client.on_socket_open = _no_nagle
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe
        self.messages_seen = 0

    # -- life cycle -------------------------------------------------------------------------------
    def start(self, timeout_s: float = 10.0) -> ConsoleLink:
        try:
            self._client.connect_async(
                self.broker.host,
                self.broker.port,
                keepalive=self.broker.keepalive_s,
                clean_start=True,
            )
        except (OSError, ValueError) as err:
            raise LinkError(f"Cannot reach the broker at {self.broker.url} ({err}).") from err
        self._client.loop_start()
        if not self._connected.wait(timeout_s):
            refused = self._refused
            self.stop()
            if refused is not None:
                raise LinkError(
                    f"The broker at {self.broker.url} refused the console ({refused}); check the "
                    "console's username and password in the broker's password file."
                )
            raise LinkError(
                f"No connection to the broker at {self.broker.url} within {timeout_s:.0f} s; "
                "check the address, the port, the firewall and (for mqtts://) the CA file."
            )
        return self

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
        self._connected.clear()

    @property
    def ingest(self) -> Ingest:
        return self._ingest

    @property
    def store(self) -> ConsoleStore:
        return self._ingest.store

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    # -- commands ---------------------------------------------------------------------------------
    def send(self, device_id: str, name: str, args: Mapping[str, Any]) -> Command:
        """Sign and publish one command; its record is stored before it leaves (so a reply that
        comes back at once always finds it)."""
        if self._key is None:
            raise LinkError(
                "This console has no signing key; start it with --key (made by `kiosk fleet "
                "keygen`)."
            )
        spec = COMMANDS[name]
        command = new_command(
            name, args, issuer=self.issuer, now_s=self._clock(), lifetime_s=spec.lifetime_s
        )
        self._ingest.store.record_command(check_device_id(device_id), command, self._clock())
        properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        properties.ResponseTopic = reply_topic(device_id, self.console_id)
        properties.CorrelationData = command.id.encode("ascii")
        properties.MessageExpiryInterval = spec.lifetime_s
        properties.ContentType = "application/json"
        info = self._client.publish(
            command_topic(device_id),
            sign_command(command, self._key),
            qos=1,
            properties=properties,
        )
        if info.rc != mqtt.MQTT_ERR_SUCCESS and info.rc != mqtt.MQTT_ERR_NO_CONN:
            raise LinkError(f"The command could not be queued ({mqtt.error_string(info.rc)}).")
        return command

    # -- paho callbacks (network thread) ----------------------------------------------------------
    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        properties: Any,
    ) -> None:
        if reason_code.is_failure:
            self._refused = reason_code
            log.error("the broker refused the console: %s", reason_code)
            return
        subscriptions = [(reply_subscription(self.console_id), 1)]
        if self._telemetry_filter:
            subscriptions.append((self._telemetry_filter, 1))
        client.subscribe(subscriptions)

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, *args: Any) -> None:
        # Ready only once the reply subscription stands: a reply to a command sent earlier
        # would be lost.
        self._connected.set()

    def _on_disconnect(self, *args: Any) -> None:
        self._connected.clear()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self.messages_seen += 1
        self._ingest.handle(message.topic, bytes(message.payload))
