"""An MQTT 5 test client that records what the broker answered: CONNACK, SUBACK and PUBACK reason
codes and every message received, with waits on a condition and a deadline (never a sleep)."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    retain: bool
    properties: Properties | None


@dataclass
class MqttProbe:
    host: str
    port: int
    client_id: str
    username: str = ""
    password: str = ""
    ca_file: Path | None = None
    messages: list[Received] = field(default_factory=list)
    connack: ReasonCode | None = None
    subacks: dict[int, list[ReasonCode]] = field(default_factory=dict)
    pubacks: dict[int, ReasonCode] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._changed = threading.Condition()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5
        )
        if self.username:
            self.client.username_pw_set(self.username, self.password)
        if self.ca_file is not None:
            self.client.tls_set_context(ssl.create_default_context(cafile=str(self.ca_file)))
        self.client.reconnect_delay_set(1, 2)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message

    # -- actions ----------------------------------------------------------------------------------
    def connect(self, timeout_s: float = 10.0) -> ReasonCode:
        self.client.connect(self.host, self.port, keepalive=30)
        self.client.loop_start()
        self.wait_for(lambda: self.connack is not None, timeout_s, "no CONNACK")
        assert self.connack is not None
        return self.connack

    def subscribe(self, topic: str, qos: int = 1, timeout_s: float = 10.0) -> list[ReasonCode]:
        _rc, mid = self.client.subscribe(topic, qos)
        self.wait_for(lambda: mid in self.subacks, timeout_s, f"no SUBACK for {topic}")
        return self.subacks[mid]

    def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        qos: int = 1,
        retain: bool = False,
        properties: Properties | None = None,
        timeout_s: float = 10.0,
    ) -> ReasonCode | None:
        """The PUBACK's reason code for QoS 1 (None for QoS 0)."""
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        if qos == 0:
            return None
        self.wait_for(lambda: info.mid in self.pubacks, timeout_s, f"no PUBACK for {topic}")
        return self.pubacks[info.mid]

    def wait_for(self, condition: Callable[[], bool], timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while not condition():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{self.client_id}: {what} within {timeout_s} s")
                self._changed.wait(left)

    def wait_message(self, match: Callable[[Received], bool], timeout_s: float = 10.0) -> Received:
        self.wait_for(lambda: any(match(m) for m in self.messages), timeout_s, "no such message")
        return next(m for m in self.messages if match(m))

    def topics(self) -> list[str]:
        with self._changed:
            return [m.topic for m in self.messages]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    # -- callbacks --------------------------------------------------------------------------------
    def _notify(self, change: Callable[[], None]) -> None:
        with self._changed:
            change()
            self._changed.notify_all()

    def _on_connect(
        self, client: Any, userdata: Any, flags: Any, rc: ReasonCode, props: Any
    ) -> None:
        self._notify(lambda: setattr(self, "connack", rc))

    def _on_subscribe(self, client: Any, userdata: Any, mid: int, rcs: Any, props: Any) -> None:
        self._notify(lambda: self.subacks.__setitem__(mid, list(rcs)))

    def _on_publish(self, client: Any, userdata: Any, mid: int, rc: ReasonCode, props: Any) -> None:
        self._notify(lambda: self.pubacks.__setitem__(mid, rc))

    def _on_message(self, client: Any, userdata: Any, message: mqtt.MQTTMessage) -> None:
        received = Received(
            message.topic,
            bytes(message.payload),
            bool(message.retain),
            getattr(message, "properties", None),
        )
        self._notify(lambda: self.messages.append(received))
